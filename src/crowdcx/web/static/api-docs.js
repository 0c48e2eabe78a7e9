// The API reference at /api/docs: Swagger UI over the OpenAPI document, from this origin
// only (the pages' Content-Security-Policy allows no inline or third-party script).
window.ui = SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});

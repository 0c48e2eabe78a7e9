from crowdcx.cli import main

main()

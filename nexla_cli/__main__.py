from nexla_cli.main import main

main()

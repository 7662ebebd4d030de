from duo.cli import main

main()

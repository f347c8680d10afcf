from graphlang.cli import main

main()

from bench.roads.run import main

main()

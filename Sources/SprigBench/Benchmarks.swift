func runBenchmarks(_ arguments: [String]) throws { print("todo") }

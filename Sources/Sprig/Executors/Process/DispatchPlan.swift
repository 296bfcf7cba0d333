/// How the process executor shares waiting tasks among its blocks: a pure function of counts,
/// tested without processes.
enum DispatchPlan {
    /// One block's room: how many tasks it may still take (`free`, prefetch included) and how
    /// many of its workers are idle (`idle` ≤ `free`).
    struct Room: Equatable {
        let free: Int
        let idle: Int
    }

    /// How many of `waiting` tasks go to each block, in the order of `rooms`.
    ///
    /// Idle workers come first, on every block; then queue slots (prefetch) round-robin, one task
    /// per block in turn, so that a short burst spreads over all hosts instead of filling the
    /// first one. When the tasks do not even fill the idle workers, they are dealt round-robin
    /// too. Never more than a block's `free`, never more than `waiting` in all.
    static func share(waiting: Int, rooms: [Room]) -> [Int] {
        var counts = rooms.map { min($0.idle, $0.free) }
        var left = waiting - counts.reduce(0, +)
        if left < 0 {
            counts = Array(repeating: 0, count: rooms.count)
            left = waiting
        }
        while left > 0 {
            var placed = false
            for index in rooms.indices where left > 0 && counts[index] < rooms[index].free {
                counts[index] += 1
                left -= 1
                placed = true
            }
            if !placed { break }
        }
        return counts
    }
}

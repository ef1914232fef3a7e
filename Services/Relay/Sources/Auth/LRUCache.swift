/// A bounded least-recently-used map with O(1) get, insert and eviction (a dictionary over an index-linked list).
///
/// Bounded so a flood of distinct unknown keys cannot grow the relay's memory; not thread-safe — its owner locks.
public struct LRUCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private struct Node: Sendable {
        var key: Key
        var value: Value
        var newer: Int?
        var older: Int?
    }

    public let capacity: Int
    private var index: [Key: Int] = [:]
    private var nodes: [Node] = []
    private var free: [Int] = []
    private var newest: Int?
    private var oldest: Int?

    public init(capacity: Int) {
        precondition(capacity > 0, "capacity must be positive")
        self.capacity = capacity
    }

    public var count: Int { index.count }

    /// The value, marking it most recently used.
    public mutating func get(_ key: Key) -> Value? {
        guard let position = index[key] else { return nil }
        moveToFront(position)
        return nodes[position].value
    }

    public mutating func set(_ key: Key, _ value: Value) {
        if let position = index[key] {
            nodes[position].value = value
            moveToFront(position)
            return
        }
        if index.count >= capacity, let victim = oldest {
            unlink(victim)
            index[nodes[victim].key] = nil
            free.append(victim)
        }
        let node = Node(key: key, value: value, newer: nil, older: nil)
        let position: Int
        if let reused = free.popLast() {
            nodes[reused] = node
            position = reused
        } else {
            nodes.append(node)
            position = nodes.count - 1
        }
        index[key] = position
        linkAtFront(position)
    }

    @discardableResult
    public mutating func remove(_ key: Key) -> Value? {
        guard let position = index.removeValue(forKey: key) else { return nil }
        unlink(position)
        free.append(position)
        return nodes[position].value
    }

    public mutating func removeAll() {
        self = LRUCache(capacity: capacity)
    }

    private mutating func moveToFront(_ position: Int) {
        guard newest != position else { return }
        unlink(position)
        linkAtFront(position)
    }

    private mutating func linkAtFront(_ position: Int) {
        nodes[position].older = newest
        nodes[position].newer = nil
        if let newest { nodes[newest].newer = position }
        newest = position
        if oldest == nil { oldest = position }
    }

    private mutating func unlink(_ position: Int) {
        let (newer, older) = (nodes[position].newer, nodes[position].older)
        if let newer { nodes[newer].older = older } else { newest = older }
        if let older { nodes[older].newer = newer } else { oldest = newer }
        nodes[position].newer = nil
        nodes[position].older = nil
    }
}

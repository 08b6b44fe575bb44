import NIOHTTP2

extension GRPCConnectionHandler {
    /// The open calls of one connection by stream: at most `maxConcurrentStreams` (100), usually a few
    /// dozen, so a scan of their ids (newest first) costs less than hashing one.
    struct StreamTable<Value> {
        private var ids: [HTTP2StreamID] = []
        private var values: [Value] = []

        var isEmpty: Bool { ids.isEmpty }
        var count: Int { ids.count }

        func index(of id: HTTP2StreamID) -> Int? {
            var index = ids.count - 1
            while index >= 0 {
                if ids[index] == id { return index }
                index -= 1
            }
            return nil
        }

        subscript(id: HTTP2StreamID) -> Value? {
            get { index(of: id).map { values[$0] } }
            set {
                if let index = index(of: id) {
                    if let newValue { values[index] = newValue } else { remove(at: index) }
                } else if let newValue {
                    ids.append(id)
                    values.append(newValue)
                }
            }
        }

        subscript(at index: Int) -> Value {
            get { values[index] }
            set { values[index] = newValue }
        }

        @discardableResult
        mutating func removeValue(forKey id: HTTP2StreamID) -> Value? {
            guard let index = index(of: id) else { return nil }
            return remove(at: index)
        }

        /// Removes by moving the last entry into the gap (order does not matter).
        @discardableResult
        mutating func remove(at index: Int) -> Value {
            let value = values[index]
            let last = ids.count - 1
            if index != last {
                ids[index] = ids[last]
                values[index] = values[last]
            }
            ids.removeLast()
            values.removeLast()
            return value
        }

        mutating func removeAll() {
            ids.removeAll(keepingCapacity: true)
            values.removeAll(keepingCapacity: true)
        }

        /// Every entry, in no particular order.
        var entries: [(id: HTTP2StreamID, value: Value)] { Array(zip(ids, values)) }
    }
}

import Foundation

/// Unix time now, in seconds with sub-millisecond precision.
enum WallClock {
    static func now() -> Double {
        Date().timeIntervalSince1970
    }
}

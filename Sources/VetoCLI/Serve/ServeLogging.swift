import Logging
import VetoServer

enum ServeLogging {
    /// Sets up process-wide logging once, to stderr, as text or JSON lines; both escape control
    /// characters in every value (a token's `sub` cannot forge a line).
    static func bootstrap(format: ServiceConfiguration.LogFormat, level: String) -> Logger {
        let logLevel = Logger.Level(rawValue: level) ?? .info
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler = format == .json ? VetoLogHandlers.json(label: label) : VetoLogHandlers.text(label: label)
            handler.logLevel = logLevel
            return handler
        }
        var logger = Logger(label: "veto")
        logger.logLevel = logLevel
        return logger
    }
}

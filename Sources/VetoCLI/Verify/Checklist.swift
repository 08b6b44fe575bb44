import VetoCore

/// The verification checklist `veto verify` prints: one line per check, passed, failed or skipped.
struct Checklist {
    enum Outcome: String { case pass, fail, skip }

    struct Line {
        let check: ValidationCheck
        let outcome: Outcome
        /// For a pass or skip: what was seen. For a failure: the failure's sentence(s).
        let detail: String
        let failures: [ValidationFailure]
    }

    let report: ValidationReport<IssuerPolicy>
    let lines: [Line]

    init(report: ValidationReport<IssuerPolicy>, policy: IssuerPolicy, now: Double) {
        self.report = report
        var lines: [Line] = []
        func add(_ check: ValidationCheck, pass: String?, skip: String) {
            let failures = report.failures(for: check)
            if !failures.isEmpty {
                lines.append(Line(check: check, outcome: .fail, detail: failures.map(\.fullMessage).joined(separator: " "), failures: failures))
            } else if report.skipped.contains(check) || pass == nil {
                lines.append(Line(check: check, outcome: .skip, detail: skip, failures: []))
            } else {
                lines.append(Line(check: check, outcome: .pass, detail: pass!, failures: []))
            }
        }
        let jws = report.jws
        let claims = report.claims
        let structureOK = jws != nil && report.failures(for: .structure).isEmpty
        add(.structure, pass: "compact JWS with 3 segments; header and payload are JSON", skip: "not reached")

        let header = jws?.header
        let algorithmFailed = !report.failures(for: .algorithm).isEmpty
        let keyFailed = !report.failures(for: .key).isEmpty
        var algorithmPass: String?
        if let header, let algorithm = header.algorithm, !algorithmFailed {
            algorithmPass =
                report.key.map { "\(algorithm), the algorithm \($0.source) is pinned to" } ?? "\(algorithm) is allowed by a configured key"
        }
        add(.algorithm, pass: jws == nil ? nil : algorithmPass, skip: jws == nil ? "not reached" : "not checked")

        var keyPass: String?
        if let key = report.key {
            keyPass = (header?.keyID.map { "kid \"\($0)\" → " } ?? "") + key.label
        } else if !algorithmFailed, !keyFailed, jws != nil, report.policy != nil {
            keyPass = header?.keyID.map { "kid \"\($0)\" is known" } ?? "a key pinned to \(header?.algorithmName ?? "?") is configured"
        }
        add(.key, pass: keyPass, skip: algorithmFailed ? "not reached (algorithm refused)" : "not reached")
        add(
            .signature, pass: report.key == nil ? nil : "valid",
            skip: structureOK ? "not checked (no usable key)" : "not reached")

        let dates = [("exp", claims?.expiresAt), ("nbf", claims?.notBefore), ("iat", claims?.issuedAt)]
        for (name, value) in dates {
            let check: ValidationCheck = name == "exp" ? .expiry : name == "nbf" ? .notBefore : .issuedAt
            var pass: String?
            if let value {
                let when = "\(UTCTime.iso8601(value)) (\(HumanDuration.relative(value, now: now)))"
                pass =
                    switch name {
                    case "exp": "expires \(when), leeway \(HumanDuration.format(policy.leeway))"
                    case "nbf": "valid since \(when)"
                    default: "issued \(when)"
                    }
            } else if claims != nil {
                pass = name == "exp" && !policy.requiredClaims.contains("exp") ? "absent (not required)" : (name == "exp" ? nil : "absent")
            }
            add(check, pass: pass, skip: claims == nil ? "not reached" : "absent")
        }

        var issuerPass: String?
        if let issuer = claims?.issuer {
            issuerPass = policy.issuer == nil ? "\"\(issuer)\" (not checked: pass --iss to check it)" : "\"\(issuer)\" as expected"
        } else if claims != nil, policy.issuer == nil {
            issuerPass = "absent (not checked: no --iss)"
        }
        add(.issuer, pass: issuerPass, skip: "not reached")

        var audiencePass: String?
        if claims != nil {
            let audience = claims?.audience?.map { "\"\($0)\"" }.joined(separator: ", ") ?? "absent"
            audiencePass =
                policy.audiences.isEmpty ? "\(audience) (not checked: pass --aud to check it)" : "\(audience) includes an accepted audience"
        }
        add(.audience, pass: audiencePass, skip: "not reached")

        if policy.requiredType != nil || !report.failures(for: .type).isEmpty {
            add(.type, pass: header?.type.map { "\"\($0)\" as required" }, skip: "not reached")
        }
        let others = policy.requiredClaims.filter { !["exp", "nbf", "iat", "iss", "aud"].contains($0) }
        add(
            .requiredClaims, pass: claims == nil ? nil : (others.isEmpty ? "none required beyond exp" : others.joined(separator: ", ") + " present"),
            skip: "not reached")
        if policy.maxLifetime != nil || !report.failures(for: .lifetime).isEmpty {
            add(.lifetime, pass: claims == nil ? nil : "within \(HumanDuration.format(policy.maxLifetime ?? 0))", skip: "not reached")
        }
        self.lines = lines
    }

    /// For people. Every value that came from the token (header, claims, the kid, iss and aud quoted in
    /// details and failures) is passed through `TerminalText.safe` before it is styled.
    func text(style: Style) -> String {
        var out = ""
        if let jws = report.jws {
            out += style.bold("Header") + "\n" + JSONDisplay.render(jws.header.object, style: style, annotations: [:]) + "\n\n"
        }
        if let claims = report.claims {
            var annotations: [String: String] = [:]
            for (name, value) in [("iat", claims.issuedAt), ("nbf", claims.notBefore), ("exp", claims.expiresAt)] {
                if let value { annotations[name] = UTCTime.iso8601(value) }
            }
            out += style.bold("Claims") + "\n" + JSONDisplay.render(claims.object, style: style, annotations: annotations) + "\n\n"
        }
        out += style.bold("Checks") + "\n"
        for line in lines {
            let mark: String =
                switch line.outcome {
                case .pass: style.green("✓")
                case .fail: style.red("✗")
                case .skip: style.dim("-")
                }
            let name = line.check.rawValue.padded(to: 16)
            switch line.outcome {
            case .fail:
                for (position, failure) in line.failures.enumerated() {
                    let lead = position == 0 ? "  \(mark) \(style.bold(name))" : "    " + String(repeating: " ", count: 16)
                    out += "\(lead) \(style.red(TerminalText.safe(failure.fullMessage))) \(style.dim("[\(failure.code)]"))\n"
                    if let hint = failure.hint {
                        out += "    " + String(repeating: " ", count: 16) + " " + style.yellow("fix: ") + TerminalText.safe(hint) + "\n"
                    }
                }
            case .pass:
                out += "  \(mark) \(name) \(TerminalText.safe(line.detail))\n"
            case .skip:
                out += "  \(mark) \(style.dim(name)) \(style.dim(TerminalText.safe(line.detail)))\n"
            }
        }
        out += "\n"
        if report.isValid {
            out += style.green(style.bold("VALID")) + ": the signature and every check passed.\n"
        } else {
            let codes = report.failures.map(\.code.rawValue)
            var unique: [String] = []
            for code in codes where !unique.contains(code) { unique.append(code) }
            out +=
                style.red(style.bold("REJECTED"))
                + ": \(report.failures.count) problem\(report.failures.count == 1 ? "" : "s") (\(unique.joined(separator: ", "))).\n"
        }
        return out
    }

    func json() -> JSONValue {
        var document = JSONObject()
        document["valid"] = .bool(report.isValid)
        if let jws = report.jws { document["header"] = .object(jws.header.object) }
        if let claims = report.claims { document["claims"] = .object(claims.object) }
        document["checks"] = .array(
            lines.map { line in
                var entry = JSONObject()
                entry["check"] = .string(line.check.rawValue)
                entry["status"] = .string(line.outcome.rawValue)
                entry["detail"] = .string(line.detail)
                return .object(entry)
            })
        document["errors"] = .array(
            report.failures.map { failure in
                var entry = JSONObject()
                entry["code"] = .string(failure.code.rawValue)
                entry["check"] = .string(failure.check.rawValue)
                entry["message"] = .string(failure.fullMessage)
                entry["hint"] = failure.hint.map(JSONValue.string) ?? .null
                return .object(entry)
            })
        if let key = report.key, report.isValid {
            var keyInfo = JSONObject()
            keyInfo["algorithm"] = .string(key.algorithm.rawValue)
            keyInfo["kid"] = key.keyID.map(JSONValue.string) ?? .null
            keyInfo["source"] = .string(key.source)
            document["key"] = .object(keyInfo)
        }
        return .object(document)
    }
}

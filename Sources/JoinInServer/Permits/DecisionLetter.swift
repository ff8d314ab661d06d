/// The printable, bilingual Work Permit Decision Letter (外国人工作许可决定书).
enum DecisionLetter {
    /// `activationCode`: the unused e-card activation code, printed for the holder; nil once used.
    static func html(_ permit: Schemas.Permit, activationCode: String?) -> String {
        let e = escape
        let holder = permit.holder
        let name = holder.givenNames.isEmpty ? holder.surname : "\(holder.surname) \(holder.givenNames)"
        let status = permit.status == .valid ? "" : "<p class=\"void\">\(e(permit.status.rawValue.uppercased())) · \(e(statusZh(permit.status.rawValue)))</p>"
        return """
        <!doctype html>
        <html lang="zh-CN">
        <head>
        <meta charset="utf-8">
        <title>Work Permit Decision Letter \(e(permit.decisionLetterNumber))</title>
        <style>
        body { font-family: "Noto Serif CJK SC", "Songti SC", serif; max-width: 48rem; margin: 2rem auto; color: #111; }
        h1 { text-align: center; font-size: 1.5rem; margin-bottom: 0; }
        h2 { text-align: center; font-size: 1rem; font-weight: normal; margin-top: .25rem; }
        table { width: 100%; border-collapse: collapse; margin: 1.5rem 0; }
        th, td { border: 1px solid #444; padding: .4rem .6rem; text-align: left; vertical-align: top; }
        th { width: 40%; background: #f3f3f3; font-weight: normal; }
        .no { text-align: right; }
        .void { color: #b00; font-weight: bold; text-align: center; border: 2px solid #b00; padding: .5rem; }
        @media print { body { margin: 0; } }
        </style>
        </head>
        <body>
        <main>
        <h1>外国人工作许可决定书</h1>
        <h2>Work Permit Decision Letter for Foreigners</h2>
        <p class="no">编号 No. \(e(permit.decisionLetterNumber))</p>
        \(status)
        <p>经审查，准予下列外国人在中国境内工作。<br>Upon review, the following foreign national is permitted to work in China.</p>
        <table>
        <tr><th>姓名 Name</th><td>\(e(name))\(holder.chineseName.map { " （\(e($0))）" } ?? "")</td></tr>
        <tr><th>国籍 Nationality</th><td>\(e(holder.nationality))</td></tr>
        <tr><th>出生日期 Date of birth</th><td>\(e(holder.dateOfBirth))</td></tr>
        <tr><th>工作许可证号 Work permit number</th><td><strong>\(e(permit.number))</strong></td></tr>
        <tr><th>类别 Category</th><td>\(e(permit.category.rawValue)) 类 · Category \(e(permit.category.rawValue))</td></tr>
        <tr><th>工作单位 Employer</th><td>\(e(permit.employer.name.zh))<br>\(e(permit.employer.name.en))</td></tr>
        <tr><th>职位 Position</th><td>\(e(permit.position))</td></tr>
        <tr><th>有效期 Validity</th><td>\(e(permit.validFrom)) 至 to \(e(permit.validUntil))</td></tr>
        <tr><th>签发时间 Issued at</th><td>\(e(permit.issuedAt.formatted(.iso8601)))</td></tr>
        </table>
        <p>凭本决定书及护照到合作银行网点申领聚英卡（社会保障卡）。<br>
        Present this letter with your passport at a partner bank branch to receive your Join In Card (social security card).</p>
        \(activationCode.map { """
        <p>电子社保卡激活码 E-card activation code: <strong>\(e($0))</strong><br>
        在电子社保卡应用中用工作许可证号、姓名和此激活码注册。Register in the Electronic Social Security Card app with
        your work permit number, your name and this one-time code.</p>
        """ } ?? "")
        </main>
        </body>
        </html>
        """
    }

    static func statusZh(_ status: String) -> String {
        switch status {
        case "expired": return "已过期"
        case "cancelled": return "已注销"
        case "pending": return "尚未生效"
        default: return "有效"
        }
    }

    /// HTML-escapes text for element content and attribute values.
    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default: out.append(character)
            }
        }
        return out
    }
}

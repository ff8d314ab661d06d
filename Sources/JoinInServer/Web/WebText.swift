/// Every sentence a page shows, in English and Chinese. A `Text` cannot be made without both, so
/// no page can show a string in only one language.
struct Text: Sendable {
    let en: String
    let zh: String

    init(_ en: String, _ zh: String) {
        self.en = en
        self.zh = zh
    }

    func callAsFunction(_ language: Language) -> String { language == .zh ? zh : en }
}

/// The web's language is the API problem language: one negotiation for both.
typealias Language = ProblemLanguage

/// The page texts, grouped by where they appear.
enum T {
    // Frame
    static let appName = Text("Join In Card", "聚英卡")
    static let consoleName = Text("Join In Card staff console", "聚英卡工作人员平台")
    static let skipToContent = Text("Skip to content", "跳到正文")
    static let switchLanguage = Text("中文", "English")
    static let languageName = Text("Language", "语言")
    static let mainMenu = Text("Main menu", "主菜单")
    static let signIn = Text("Sign in", "登录")
    static let signOut = Text("Sign out", "退出登录")
    static let register = Text("Register", "注册")
    static let password = Text("Password", "密码")
    static let newPassword = Text("New password", "新密码")
    static let currentPassword = Text("Current password", "当前密码")
    static let submit = Text("Submit", "提交")
    static let back = Text("Back", "返回")
    static let next = Text("Next page", "下一页")
    static let none = Text("Nothing yet.", "暂无记录。")
    static let error = Text("Something went wrong", "出现问题")
    static let errorCode = Text("Error code", "错误代码")
    static let notFound = Text("Page not found", "页面不存在")
    static let notFoundDetail = Text("There is no page at this address.", "此地址没有页面。")
    static let formExpired = Text("This form has expired or did not come from this site. Reload the page and try again.",
                                  "表单已过期或并非来自本网站。请刷新页面后重试。")
    static let signedOutNotice = Text("Your session has ended. Please sign in again.", "您的会话已结束，请重新登录。")
    static let yes = Text("Yes", "是")
    static let no = Text("No", "否")
    static let date = Text("Date", "日期")
    static let time = Text("Time", "时间")
    static let amount = Text("Amount", "金额")
    static let description = Text("Description", "说明")
    static let status = Text("Status", "状态")

    // E-card: sign-in and registration
    static let permitNumber = Text("Work permit number", "工作许可证号")
    static let permitNumberHint = Text("18 characters, starting with W, as printed on your decision letter.",
                                       "18 位，以 W 开头，见《工作许可决定书》。")
    static let fullName = Text("Name", "姓名")
    static let fullNameHint = Text("Your name as in your passport, or your Chinese name as recorded.",
                                   "与护照一致的姓名，或登记的中文姓名。")
    static let activationCode = Text("Activation code", "激活码")
    static let activationCodeHint = Text("The one-time code printed on your decision letter.", "《工作许可决定书》上印有的一次性激活码。")
    static let passwordHint = Text("At least 10 characters. Do not reuse your permit number.", "至少 10 个字符，不要使用工作许可证号。")
    static let signInTitle = Text("Sign in to your e-card", "登录电子社保卡")
    static let signInIntro = Text("Your work permit, your Join In Card and its benefits, on your phone.",
                                  "您的工作许可、聚英卡及各项权益，尽在手机上。")
    static let noAccount = Text("First time here?", "第一次使用？")
    static let registerTitle = Text("Register your e-card", "注册电子社保卡")
    static let registerIntro = Text("You need the decision letter you received with your work permit.",
                                    "您需要随工作许可一起领取的《工作许可决定书》。")

    // E-card: home
    static let home = Text("My card", "我的卡")
    static let workPermit = Text("Work permit", "工作许可")
    static let nationality = Text("Nationality", "国籍")
    static let category = Text("Category", "类别")
    static let validity = Text("Valid", "有效期")
    static let employer = Text("Employer", "工作单位")
    static let position = Text("Position", "职位")
    static let card = Text("Join In Card", "聚英卡")
    static let cardNumber = Text("Card number", "卡号")
    static let financialFunctions = Text("Financial functions", "金融功能")
    static let noCard = Text("No card yet: collect it at a partner bank branch with your decision letter and passport.",
                             "尚未领卡：请携带《工作许可决定书》和护照到合作银行网点办理。")
    static let credentialTitle = Text("Verifiable permit", "可验证的工作许可")
    static let credentialHelp = Text("Anyone can check this code offline with the bureau's public keys.",
                                     "任何人都可以用发证机关的公钥离线核验此码。")
    static let credentialText = Text("The credential as text", "凭证文本")
    static let credentialUnavailable = Text("No credential can be shown while the permit is not valid.",
                                            "工作许可无效期间无法出示凭证。")
    static let dynamicTitle = Text("Code for counters and gates", "柜台与闸机使用的动态码")
    static let dynamicHelp = Text("Show this code at a counter, gate or till. It is valid for two minutes and used once; it renews itself on this page.",
                                  "请在柜台、闸机或收银台出示此码。有效期两分钟，仅可使用一次，本页面会自动更新。")
    static let dynamicRefresh = Text("New code", "刷新动态码")
    static let dynamicUnavailable = Text("A dynamic code needs an active card.", "动态码需要已激活的卡。")
    static let benefitsSuspended = Text("Benefits are suspended while the permit is not valid or the card is not active.",
                                        "工作许可无效或卡片未激活时，各项权益暂停。")
    static let decisionLetter = Text("Decision letter", "工作许可决定书")

    // E-card: money
    static let accounts = Text("Accounts", "账户")
    static let balance = Text("Balance", "余额")
    static let available = Text("Available", "可用")
    static let statement = Text("Statement", "明细")
    static let debitsBlocked = Text("Payments out are blocked while the card is lost or cancelled.", "卡片挂失或注销期间，禁止支出。")
    static let accountFinancial = Text("Bank account", "银行账户")
    static let accountTransit = Text("Transit wallet", "交通钱包")
    static let accountMedical = Text("Medical personal account", "医保个人账户")
    static let transfer = Text("Transfer to another card", "转账到其他卡")
    static let toCard = Text("Recipient's card number", "收款卡号")
    static let toCardHint = Text("19 digits.", "19 位数字。")
    static let amountYuan = Text("Amount (yuan)", "金额（元）")
    static let amountHint = Text("For example 88.00", "例如 88.00")
    static let memo = Text("Note (optional)", "附言（选填）")
    static let send = Text("Send", "转账")
    static let sent = Text("Sent.", "已转出。")
    static let topUp = Text("Top up the transit wallet", "交通钱包充值")
    static let topUpAction = Text("Top up", "充值")
    static let toppedUp = Text("Topped up.", "已充值。")
    static let newBalance = Text("Balance now", "当前余额")
    static let amountInvalid = Text("Enter an amount in yuan with at most two decimals, for example 88.00.",
                                    "请输入金额（元），最多两位小数，例如 88.00。")

    // E-card: card loss
    static let reportLoss = Text("Report card lost", "挂失")
    static let reportLossHelp = Text("Reporting the card lost blocks payments and gates at once. A bank branch issues a replacement.",
                                     "挂失后立即停止支付和闸机使用。补卡请到银行网点办理。")
    static let reportLossConfirm = Text("Yes, my card is lost", "确认挂失")
    static let reported = Text("Your card is reported lost.", "您的卡已挂失。")

    // E-card: inbox and benefits
    static let inbox = Text("Messages", "消息")
    static let unread = Text("unread", "未读")
    static let markAllRead = Text("Mark all as read", "全部标为已读")
    static let trips = Text("Trips", "出行")
    static let medical = Text("Medical insurance", "医疗保险")
    static let library = Text("Library", "图书馆")
    static let venues = Text("Museums and scenic spots", "博物馆与景区")
    static let offers = Text("Offers", "优惠")
    static let services = Text("Government services", "政务服务")
    static let events = Text("Events", "活动")

    // Console
    static let username = Text("User name", "用户名")
    static let overview = Text("Overview", "概览")
    static let consoleSignInTitle = Text("Staff sign-in", "工作人员登录")
    static let changePasswordTitle = Text("Choose your own password", "设置您的密码")
    static let changePasswordIntro = Text("Your one-time password must be replaced before you can work.",
                                          "开始工作前，请先更换一次性密码。")
    static let passwordChanged = Text("Password changed.", "密码已修改。")
    static let signedInAs = Text("Signed in as", "当前用户")
    static let role = Text("Role", "角色")
    static let arrivals = Text("Arrivals: applications waiting for the originals check", "待核验原件的申请")
    static let applications = Text("Permit applications", "工作许可申请")
    static let applicant = Text("Applicant", "申请人")
    static let passport = Text("Passport", "护照")
    static let documents = Text("Documents", "材料")
    static let originalsChecked = Text("Originals checked", "已核验原件")
    static let issuePermit = Text("Issue the permit now", "当场签发工作许可")
    static let rejectApplication = Text("Reject", "不予许可")
    static let reason = Text("Reason", "理由")
    static let permitIssued = Text("Permit issued", "工作许可已签发")
    static let printLetter = Text("Print the decision letter", "打印工作许可决定书")
    static let contract = Text("Contract", "劳动合同")
    static let submitted = Text("Submitted", "提交时间")
    static let cards = Text("Cards", "卡片")
    static let issueCard = Text("Issue a card", "发卡")
    static let decisionLetterNumber = Text("Decision letter number", "决定书编号")
    static let passportNumber = Text("Passport number", "护照号码")
    static let cardIssued = Text("Card issued", "卡片已发放")
    static let findCard = Text("Find a card", "查询卡片")
    static let audit = Text("Audit trail", "审计记录")
    static let auditVerified = Text("Audit chain verified", "审计链校验通过")
    static let verifyAudit = Text("Verify the whole chain now", "立即校验整条审计链")
    static let actor = Text("Actor", "操作者")
    static let action = Text("Action", "操作")
    static let object = Text("Object", "对象")
    static let outcome = Text("Outcome", "结果")
    static let staff = Text("Staff", "工作人员")
    static let systemAccounts = Text("System accounts", "系统账户")
    static let nothingForRole = Text("Your role works through terminals or the API; there is no console page for it yet.",
                                     "您的角色通过终端或接口办理业务，暂无控制台页面。")
}

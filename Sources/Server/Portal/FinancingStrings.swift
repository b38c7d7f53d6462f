/// The Financing pages' strings (Spanish first, English).
extension PortalStrings {
    var navExpenses: String { t("Mis gastos", "My expenses") }
    var expensesLead: String {
        t("Lo que costó cada atención, quién pagó qué y lo que a usted le toca pagar, según la explicación de beneficios de su aseguradora o institución.",
          "What each visit cost, who paid what and what you owe, from the explanation of benefits of your insurer or institution.")
    }
    var noExpenses: String { t("Todavía no hay explicaciones de beneficios en su expediente.", "There are no explanations of benefits in your record yet.") }
    var expenseInsurer: String { t("Quién paga", "Who pays") }
    var expenseCost: String { t("Costo", "Cost") }
    var expensePaidByInsurer: String { t("Pagó su aseguradora o institución", "Paid by your insurer or institution") }
    var expenseYouOwe: String { t("Le toca pagar", "You owe") }
    var expenseTotalOwed: String { t("Total que le toca pagar", "Total you owe") }
    var expensesTableCaption: String { t("Sus atenciones y lo que costaron", "Your visits and what they cost") }
    func expenseOutcome(_ code: String) -> String {
        switch code {
        case "approved": return t("Aprobada", "Approved")
        case "partial": return t("Aprobada en parte", "Partly approved")
        case "denied": return t("Rechazada", "Denied")
        case "reduced": return t("Pagado al tabulador", "Paid at the tariff")
        default: return code
        }
    }
}

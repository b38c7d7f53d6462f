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

    // Mi cobertura
    var navCoverage: String { t("Mi cobertura", "My coverage") }
    var coverageLead: String {
        t("Sus esquemas de aseguramiento (seguridad social o póliza privada), el plan de cada uno y lo que cubre.",
          "Your coverage schemes (social security or private policy), the plan of each and what it covers.")
    }
    var noCoverage: String { t("No hay coberturas registradas en su expediente.", "There is no coverage in your record.") }
    var coveragePayer: String { t("Quién paga", "Payer") }
    var coveragePlan: String { t("Plan", "Plan") }
    var coverageStatus: String { t("Estado", "Status") }
    var coverageActive: String { t("Vigente", "In force") }
    var coverageInactive: String { t("No vigente", "Not in force") }
    var coveragePeriod: String { t("Vigencia", "Valid") }
    var coverageFrom: String { t("desde", "from") }
    var coverageUntil: String { t("hasta", "until") }
    var coverageNumber: String { t("Número", "Number") }
    var coverageOrder: String { t("Orden de uso", "Order of use") }
    var coverageCovers: String { t("Qué cubre", "What it covers") }
    var coverageEverything: String { t("Todos los servicios del tabulador, sin costo en el punto de atención.", "Every service of the tariff, at no cost at the point of care.") }
    var coverageNotCovered: String { t("No cubre", "Not covered") }
    var coverageDeductible: String { t("Deducible anual", "Annual deductible") }
    var coverageCoinsurance: String { t("Coaseguro", "Coinsurance") }
    var coverageCopay: String { t("Copago por servicio", "Copay per service") }
    var coveragePlanUnknown: String { t("El plan de esta cobertura no está en Enlace.", "The plan of this coverage is not in Enlace.") }

    // payer and institution pages
    var navClaims: String { t("Reclamaciones", "Claims") }
    var navSettlement: String { t("Liquidación", "Settlement") }
    var navQuality: String { t("Calidad", "Quality") }
    var navDisputes: String { t("Disputas", "Disputes") }
    var claimsLead: String {
        t("Las reclamaciones enviadas a su organización que su función le permite ver, con su dictamen.",
          "The claims submitted to your organisation that your role lets you see, with their decision.")
    }
    var claimsFilter: String { t("Filtrar", "Filter") }
    var claimsStatus: String { t("Estado", "Status") }
    var claimsAnyStatus: String { t("Todos", "All") }
    var claimsPeriod: String { t("Periodo (AAAA-Tn)", "Period (YYYY-Qn)") }
    var claimsPatient: String { t("Paciente (id)", "Patient (id)") }
    var claimsNone: String { t("No hay reclamaciones con estos filtros.", "There are no claims with these filters.") }
    var claimsCount: String { t("Reclamaciones", "Claims") }
    var claimProvider: String { t("Prestador", "Provider") }
    var claimPatient: String { t("Paciente", "Patient") }
    var claimDate: String { t("Fecha del servicio", "Service date") }
    var claimSubmitted: String { t("Reclamado", "Claimed") }
    var claimPayerPays: String { t("Paga la aseguradora", "Payer pays") }
    var claimPatientPays: String { t("Paga el paciente", "Patient pays") }
    var claimItems: String { t("Servicios y dictamen por servicio", "Services and the decision on each") }
    var claimQuantity: String { t("Cantidad", "Quantity") }
    var claimDecision: String { t("Procedencia de la decisión", "Provenance of the decision") }
    var claimDecisionRules: String { t("Reglas aplicadas (con versión)", "Rules applied (with version)") }
    var claimDecisionBy: String { t("Decidió", "Decided by") }
    var claimDecisionWhen: String { t("Cuándo", "When") }
    var claimProvenanceHidden: String {
        t("Su función no puede leer el registro de procedencia (Provenance); estas son las reglas registradas en el dictamen mismo, las mismas que nombra la procedencia.",
          "Your role may not read the Provenance record; these are the rules recorded in the decision itself, the same the Provenance names.")
    }
    var claimNotes: String { t("Notas del dictamen", "Decision notes") }
    var claimBack: String { t("Volver a las reclamaciones", "Back to the claims") }
    var claimPeriod: String { t("Periodo contable", "Accounting period") }
    func claimStatus(_ code: String) -> String {
        switch code {
        case "queued": return t("En cola", "Queued")
        case "approved": return t("Aprobada", "Approved")
        case "partial": return t("Aprobada en parte", "Partly approved")
        case "denied": return t("Rechazada", "Denied")
        case "disputed": return t("En disputa", "Disputed")
        default: return expenseOutcome(code)
        }
    }
    func adjudicationCategory(_ code: String) -> String {
        switch code {
        case "submitted": return t("Reclamado", "Submitted")
        case "eligible": return t("Elegible", "Eligible")
        case "deductible": return t("Deducible", "Deductible")
        case "coinsurance": return t("Coaseguro", "Coinsurance")
        case "copay": return t("Copago", "Copay")
        case "benefit": return t("Paga la aseguradora", "Benefit")
        case "patient-share": return t("Paga el paciente", "Patient share")
        default: return code
        }
    }

    var settlementLead: String {
        t("La liquidación entre instituciones del periodo: lo que cada una debe a la otra por tarifa del tabulador, las correcciones y el neto. Las cifras son las del libro contable.",
          "The settlement between institutions for the period: what each owes the other by tariff code, the corrections and the net. The figures are the ledger's.")
    }
    var settlementPeriod: String { t("Periodo", "Period") }
    var settlementNone: String { t("No hay liquidación de este periodo que usted pueda ver.", "There is no settlement of this period you may see.") }
    var settlementDownloadCSV: String { t("Descargar CSV", "Download CSV") }
    var settlementDownloadPDF: String { t("Descargar PDF", "Download PDF") }
    var settlementIncentive: String { t("Incentivo de calidad", "Quality incentive") }
    var settlementCorrections: String { t("Correcciones (disputas aceptadas)", "Corrections (accepted disputes)") }
    var settlementTotal: String { t("Total", "Total") }
    var settlementNet: String { t("Neto", "Net") }
    var settlementEven: String { t("Saldo cero: nadie paga.", "Even: nobody pays.") }
    func settlementOwes(_ debtor: String, _ creditor: String) -> String { t("\(debtor) debe a \(creditor)", "\(debtor) owes \(creditor)") }
    func settlementPays(_ payer: String, _ payee: String) -> String { t("\(payer) paga a \(payee)", "\(payer) pays \(payee)") }
    var settlementTitle: String { t("Estado de liquidación / Settlement statement", "Settlement statement / Estado de liquidación") }

    var qualityLead: String {
        t("Los indicadores de calidad por trimestre, calculados con los datos que su función le permite ver (solo conteos), y el incentivo ganado cuando se alcanza la meta del contrato.",
          "The quality measures per quarter, computed on the data your role may see (counts only), and the incentive earned when the contract's target is met.")
    }
    var qualityOrganization: String { t("Institución (Organization/id, opcional)", "Institution (Organization/id, optional)") }
    var qualityRate: String { t("Resultado", "Result") }
    var qualityTarget: String { t("Meta", "Target") }
    var qualityBaseline: String { t("Línea base", "Baseline") }
    var qualityBonus: String { t("Incentivo por punto arriba de la línea base", "Bonus per point above the baseline") }
    var qualityEarned: String { t("Incentivo ganado en el último trimestre", "Incentive earned in the last quarter") }
    var qualityNotMet: String { t("Meta no alcanzada: sin incentivo.", "Target not met: no incentive.") }
    var qualityNoContract: String { t("Sin incentivo en el contrato.", "No incentive in the contract.") }
    var qualityNoData: String { t("sin pacientes en el denominador", "no patients in the denominator") }
    var qualityContract: String { t("Contrato", "Contract") }
    func qualityPayerNote(_ minimum: Int) -> String {
        t("Una aseguradora no lee los datos clínicos de sus beneficiarios: estos indicadores los cuentan sin mostrárselos (solo totales; un grupo de menos de \(minimum) personas no se muestra).",
          "A payer does not read its beneficiaries' clinical data: these measures count it without showing it (totals only; a group of fewer than \(minimum) people is not shown).")
    }
    func qualityMasked(_ minimum: Int) -> String { t("menos de \(minimum) personas: no se muestra", "fewer than \(minimum) people: not shown") }
    func qualityChartDescription(_ name: String, _ values: String) -> String {
        t("Porcentaje de \(name) por trimestre: \(values).", "Share for \(name) per quarter: \(values).")
    }

    var disputesLead: String {
        t("Las disputas de partidas de una liquidación: la institución que paga disputa, la institución acreedora acepta o rechaza. Una disputa aceptada se corrige en el siguiente periodo abierto.",
          "Disputes of settlement lines: the paying institution disputes, the institution owed accepts or rejects. An accepted dispute is corrected in the next open period.")
    }
    var disputesNone: String { t("No hay disputas que usted pueda ver.", "There are no disputes you may see.") }
    var disputesHidden: String {
        t("Su función no puede leer las disputas (recursos Task) según la política de acceso.", "Your role may not read disputes (Task resources) under the access policy.")
    }
    var disputeRequester: String { t("Disputa", "Disputed by") }
    var disputeOwner: String { t("Acreedor", "Owed to") }
    var disputeAmount: String { t("Importe", "Amount") }
    var disputeReason: String { t("Motivo", "Reason") }
    var disputeLine: String { t("Partida", "Line") }
    var disputeCorrectedIn: String { t("Corregida en", "Corrected in") }
    var disputeAccept: String { t("Aceptar", "Accept") }
    var disputeReject: String { t("Rechazar", "Reject") }
    var disputeNote: String { t("Nota (opcional)", "Note (optional)") }
    var disputeResolved: String { t("Disputa resuelta.", "Dispute resolved.") }
    func disputeStatus(_ code: String) -> String {
        switch code {
        case "open": return t("Abierta", "Open")
        case "accepted": return t("Aceptada", "Accepted")
        case "rejected": return t("Rechazada", "Rejected")
        default: return code
        }
    }
}

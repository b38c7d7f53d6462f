/// The sample *tabulador* (tariff table) of the exchange of services between public institutions,
/// version 2026.1, as JSON (docs/financing.md, "Data sources").
///
/// It is a REALISTIC SAMPLE, NOT AN OFFICIAL TARIFF: its structure follows the *Acuerdo General de
/// Coordinación para el Intercambio de Servicios* (IMSS, ISSSTE and the state health services,
/// 2011 and later addenda), which prices each service unit for the institution that received the
/// beneficiary, and its amounts are of the order of the *costos unitarios por nivel de atención
/// médica* that IMSS publishes each year in the Diario Oficial de la Federación; the codes are
/// Enlace's own (`https://enlace.mx/fhir/CodeSystem/tabulador-intercambio`).
enum TabuladorIntercambio2026 {
    static let json = #"""
    {
      "id": "tabulador-intercambio",
      "version": "2026.1",
      "system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio",
      "title": "Tabulador de intercambio de servicios (muestra realista, no oficial)",
      "source": "Modelado sobre el Acuerdo General de Coordinación para el Intercambio de Servicios y los costos unitarios por nivel de atención médica del IMSS (DOF); importes ilustrativos",
      "currency": "MXN",
      "items": [
        {"code": "01.001", "display": "Consulta de medicina familiar", "level": 1, "price": "826.00", "kind": "consulta"},
        {"code": "01.002", "display": "Atención de urgencias en primer nivel", "level": 1, "price": "1170.00", "kind": "urgencias"},
        {"code": "01.003", "display": "Consulta de estomatología", "level": 1, "price": "720.00", "kind": "consulta"},
        {"code": "01.004", "display": "Consulta de nutrición", "level": 1, "price": "650.00", "kind": "consulta"},
        {"code": "02.001", "display": "Consulta de especialidades", "level": 2, "price": "1485.00", "kind": "consulta"},
        {"code": "02.002", "display": "Atención de urgencias en segundo nivel", "level": 2, "price": "2136.00", "kind": "urgencias"},
        {"code": "02.003", "display": "Día-paciente en hospitalización", "level": 2, "price": "9856.00", "kind": "hospitalizacion"},
        {"code": "03.001", "display": "Hemoglobina glucosilada (HbA1c)", "level": 1, "price": "310.00", "kind": "laboratorio"},
        {"code": "03.002", "display": "Glucosa sérica", "level": 1, "price": "62.00", "kind": "laboratorio"},
        {"code": "03.003", "display": "Biometría hemática", "level": 1, "price": "118.00", "kind": "laboratorio"},
        {"code": "03.004", "display": "Perfil de lípidos", "level": 1, "price": "290.00", "kind": "laboratorio"},
        {"code": "04.001", "display": "Ultrasonido obstétrico", "level": 2, "price": "980.00", "kind": "imagen"},
        {"code": "04.002", "display": "Radiografía de tórax", "level": 1, "price": "430.00", "kind": "imagen"},
        {"code": "05.001", "display": "Revisión de pie diabético", "level": 1, "price": "320.00", "kind": "procedimiento"},
        {"code": "07.001", "display": "Metformina 850 mg, caja con 30 tabletas", "level": 1, "price": "38.50", "kind": "medicamento"},
        {"code": "07.002", "display": "Losartán 50 mg, caja con 30 tabletas", "level": 1, "price": "61.20", "kind": "medicamento"},
        {"code": "08.001", "display": "Panel genético de riesgo cardiovascular", "level": 3, "price": "8900.00", "kind": "estudio-especial"}
      ]
    }
    """#
}

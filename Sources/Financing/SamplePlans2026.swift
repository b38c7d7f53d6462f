/// The sample benefit plans (FHIR R4 InsurancePlan) of the payers Enlace hosts in the demo and
/// the tests, version 2026.1 (docs/financing.md, "Data sources"). The public schemes (IMSS
/// régimen obligatorio, ISSSTE, IMSS-Bienestar) cover every service of the tabulador without
/// cost to the beneficiary (free care at the point of service, Ley del Seguro Social, Ley del
/// ISSSTE, Ley General de Salud art. 77 bis 1); the private major-medical policy is a realistic
/// sample of a Mexican *gastos médicos* policy: an annual deductible, a 10 % coinsurance, and
/// two services it does not cover.
enum SamplePlans2026 {
    static let json = #"""
    [
      {"resourceType": "InsurancePlan", "id": "imss-regimen-obligatorio", "status": "active",
       "extension": [{"url": "https://enlace.mx/fhir/StructureDefinition/rule-version", "valueString": "2026.1"}],
       "identifier": [{"system": "https://enlace.mx/fhir/insurance-plan", "value": "imss-regimen-obligatorio"}],
       "name": "IMSS — Seguro de Enfermedades y Maternidad (régimen obligatorio)",
       "ownedBy": {"reference": "Organization/imss", "display": "Instituto Mexicano del Seguro Social"},
       "coverage": [{"type": {"text": "Todos los servicios del tabulador"}, "benefit": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/benefit-scope", "code": "all"}]}}]}],
       "plan": [{"type": {"text": "Derechohabiente"},
                 "generalCost": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "deductible"}]}, "cost": {"value": 0, "currency": "MXN"}}],
                 "specificCost": [{"category": {"text": "Todos los servicios"}, "benefit": [{"type": {"text": "Costo compartido"}, "cost": [
                   {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "coinsurance"}]}, "value": {"value": 0, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}}]}]}]}]},
      {"resourceType": "InsurancePlan", "id": "issste", "status": "active",
       "extension": [{"url": "https://enlace.mx/fhir/StructureDefinition/rule-version", "valueString": "2026.1"}],
       "identifier": [{"system": "https://enlace.mx/fhir/insurance-plan", "value": "issste"}],
       "name": "ISSSTE — Seguro de Salud",
       "ownedBy": {"reference": "Organization/issste", "display": "Instituto de Seguridad y Servicios Sociales de los Trabajadores del Estado"},
       "coverage": [{"type": {"text": "Todos los servicios del tabulador"}, "benefit": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/benefit-scope", "code": "all"}]}}]}],
       "plan": [{"type": {"text": "Derechohabiente"},
                 "generalCost": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "deductible"}]}, "cost": {"value": 0, "currency": "MXN"}}]}]},
      {"resourceType": "InsurancePlan", "id": "imss-bienestar", "status": "active",
       "extension": [{"url": "https://enlace.mx/fhir/StructureDefinition/rule-version", "valueString": "2026.1"}],
       "identifier": [{"system": "https://enlace.mx/fhir/insurance-plan", "value": "imss-bienestar"}],
       "name": "IMSS-Bienestar — atención gratuita a personas sin seguridad social",
       "ownedBy": {"reference": "Organization/imss-bienestar", "display": "IMSS-Bienestar"},
       "coverage": [{"type": {"text": "Todos los servicios del tabulador"}, "benefit": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/benefit-scope", "code": "all"}]}}]}],
       "plan": [{"type": {"text": "Persona sin seguridad social"},
                 "generalCost": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "deductible"}]}, "cost": {"value": 0, "currency": "MXN"}}]}]},
      {"resourceType": "InsurancePlan", "id": "vida-plena-gmm-basico", "status": "active",
       "extension": [{"url": "https://enlace.mx/fhir/StructureDefinition/rule-version", "valueString": "2026.1"}],
       "identifier": [{"system": "https://enlace.mx/fhir/insurance-plan", "value": "vida-plena-gmm-basico"}],
       "name": "Seguros Vida Plena — Gastos Médicos Básico",
       "ownedBy": {"reference": "Organization/seguros-vida-plena", "display": "Seguros Vida Plena"},
       "coverage": [{"type": {"text": "Servicios cubiertos"}, "benefit": [
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "01.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "01.002"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "02.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "02.002"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "02.003"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "03.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "03.002"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "03.003"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "03.004"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "04.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "04.002"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "05.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "07.001"}]}},
         {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/tabulador-intercambio", "code": "07.002"}]}}]}],
       "plan": [{"type": {"text": "Básico individual"},
                 "generalCost": [{"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "deductible"}]}, "cost": {"value": 1500.00, "currency": "MXN"}}],
                 "specificCost": [{"category": {"text": "Servicios cubiertos"}, "benefit": [{"type": {"text": "Costo compartido"}, "cost": [
                   {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "coinsurance"}]}, "value": {"value": 10, "unit": "%", "system": "http://unitsofmeasure.org", "code": "%"}},
                   {"type": {"coding": [{"system": "https://enlace.mx/fhir/CodeSystem/cost-type", "code": "copay"}]}, "value": {"value": 0, "unit": "MXN", "system": "urn:iso:std:iso:4217", "code": "MXN"}}]}]}]}]}
    ]
    """#
}

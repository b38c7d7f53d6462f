#!/usr/bin/env python3
"""Deterministic synthetic Mexican population for Enlace benchmarks.

    python3 bench/generate.py --patients 100 --out /tmp/pop [--seed 42] [--per-bundle 4]

Writes, for the same seed and size, byte-identical output:

    OUT/shared.json             transaction Bundle: Organizations (IMSS, ISSSTE, IMSS-Bienestar,
                                a private insurer, clinics) and Practitioners, by PUT with fixed ids
    OUT/bundles/NNNNN.json      transaction Bundles, --per-bundle patients each, urn:uuid references
    OUT/ndjson/TYPE.ndjson      the same resources as Bulk Data NDJSON (one file per type, ids = the uuids)
    OUT/manifest.json           counts per type, bytes, the seed

Per patient: Patient (CURP with RENAPO check digit, Mexican names, address), Coverage, Encounters,
CIE-10 Conditions (E11, I10, E66, J45, pregnancy O-codes …), vital signs and labs (LOINC, UCUM),
MedicationRequests, Immunizations (Cartilla Nacional de Salud), AllergyIntolerance, Procedure and,
for about one patient in five, a wearable Device with heart-rate, glucose, steps and SpO2 series.

The module is also imported by the load scripts (wearable batches, CRUD templates).
"""
import argparse
import datetime as dt
import json
import os
import random
import sys
import uuid

# ---------------------------------------------------------------------------------------------
# CURP (Clave Única de Registro de Población), RENAPO's construction and check digit

CURP_ALPHABET = "0123456789ABCDEFGHIJKLMNÑOPQRSTUVWXYZ"
VOWELS = "AEIOU"
# a few of RENAPO's "palabras inconvenientes": their second letter becomes X
INCONVENIENT = {"BACA", "BAKA", "BUEI", "BUEY", "CACA", "CACO", "CAGA", "CAKA", "COGE", "COJE", "COJO",
                "CULO", "FETO", "GUEY", "JOTO", "KACA", "KAGO", "KOGE", "KULO", "MAME", "MAMO", "MEAR",
                "MEON", "MION", "MOCO", "MULA", "PEDA", "PEDO", "PENE", "PUTA", "PUTO", "QULO", "RATA", "RUIN"}
STATES = {  # RENAPO entity code -> name
    "AS": "Aguascalientes", "BC": "Baja California", "CH": "Chihuahua", "CL": "Coahuila",
    "DF": "Ciudad de México", "DG": "Durango", "GT": "Guanajuato", "GR": "Guerrero", "HG": "Hidalgo",
    "JC": "Jalisco", "MC": "México", "MN": "Michoacán", "NL": "Nuevo León", "OC": "Oaxaca",
    "PL": "Puebla", "QT": "Querétaro", "SP": "San Luis Potosí", "SL": "Sinaloa", "SR": "Sonora",
    "TC": "Tabasco", "TS": "Tamaulipas", "VZ": "Veracruz", "YN": "Yucatán", "ZS": "Zacatecas",
}


def _plain(s):
    return (s.upper().replace("Á", "A").replace("É", "E").replace("Í", "I").replace("Ó", "O")
            .replace("Ú", "U").replace("Ü", "U").replace("Ñ", "X"))


def _first_internal(s, vowel):
    for c in s[1:]:
        if (c in VOWELS) == vowel and c.isalpha():
            return c
    return "X"


def curp_check_digit(first17):
    """RENAPO: sum of value(char) * (18 - position) over the 17 chars; digit = (10 - sum % 10) % 10."""
    total = sum(CURP_ALPHABET.index(c) * (18 - i) for i, c in enumerate(first17))
    return str((10 - total % 10) % 10)


def curp(paternal, maternal, given, birth, sex, state, differentiator):
    p, m, g = _plain(paternal), _plain(maternal), _plain(given.split()[0])
    four = p[0] + _first_internal(p, True) + m[0] + g[0]
    if four in INCONVENIENT:
        four = four[0] + "X" + four[2:]
    body = (four + birth.strftime("%y%m%d") + sex + state
            + _first_internal(p, False) + _first_internal(m, False) + _first_internal(g, False)
            + differentiator)
    return body + curp_check_digit(body)


def curp_is_valid(c):
    return (len(c) == 18 and all(ch in CURP_ALPHABET for ch in c)
            and c[10] in "HM" and c[11:13] in STATES | {"NE": 0} and curp_check_digit(c[:17]) == c[17])


# ---------------------------------------------------------------------------------------------
# Vocabularies

MALE = ["José", "Juan", "Luis", "Carlos", "Miguel", "Jesús", "Francisco", "Alejandro", "Jorge",
        "Ricardo", "Fernando", "Eduardo", "Roberto", "Daniel", "Arturo", "Sergio", "Raúl", "Manuel"]
FEMALE = ["María", "Guadalupe", "Lucía", "Ana", "Sofía", "Fernanda", "Patricia", "Verónica",
          "Alejandra", "Leticia", "Rosa", "Gabriela", "Ximena", "Valeria", "Adriana", "Elena", "Carmen"]
SURNAMES = ["Hernández", "García", "Martínez", "López", "González", "Pérez", "Rodríguez", "Sánchez",
            "Ramírez", "Cruz", "Flores", "Gómez", "Morales", "Vázquez", "Reyes", "Jiménez", "Torres",
            "Díaz", "Gutiérrez", "Ruiz", "Mendoza", "Aguilar", "Ortiz", "Moreno", "Castillo", "Romero",
            "Álvarez", "Chávez", "Rivera", "Juárez", "Domínguez", "Méndez", "Ibarra", "Núñez", "Ochoa"]
STREETS = ["Av. Insurgentes", "Calle Juárez", "Av. Reforma", "Calle Hidalgo", "Av. Morelos",
           "Calle Allende", "Calle 5 de Mayo", "Av. Universidad", "Calle Zaragoza", "Av. Revolución"]

ICD10 = "http://hl7.org/fhir/sid/icd-10"
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
CURP_SYSTEM = "http://www.renapo.gob.mx/curp"
SNOMED = "http://snomed.info/sct"
CVX = "http://hl7.org/fhir/sid/cvx"

# (code, display, prevalence, min age, sex or None)
CONDITIONS = [
    ("E11.9", "Diabetes mellitus tipo 2 sin complicaciones", 0.14, 30, None),
    ("I10", "Hipertensión esencial (primaria)", 0.25, 25, None),
    ("E66.9", "Obesidad, no especificada", 0.30, 12, None),
    ("E78.5", "Hiperlipidemia, no especificada", 0.18, 25, None),
    ("J45.9", "Asma, no especificada", 0.05, 3, None),
    ("N18.3", "Enfermedad renal crónica, etapa 3", 0.04, 45, None),
    ("F32.9", "Episodio depresivo, no especificado", 0.06, 15, None),
    ("J06.9", "Infección aguda de las vías respiratorias superiores", 0.20, 0, None),
    ("A09", "Diarrea y gastroenteritis de presunto origen infeccioso", 0.08, 0, None),
    ("O24.4", "Diabetes mellitus que se origina en el embarazo", 0.03, 15, "female"),
    ("O13", "Hipertensión gestacional", 0.03, 15, "female"),
    ("O09.9", "Supervisión de embarazo de alto riesgo", 0.05, 15, "female"),
]
MEDS_FOR = {  # CIE-10 prefix -> (code, display) in the Cuadro Básico spirit
    "E11": [("010.000.5165.00", "Metformina 850 mg tableta"), ("010.000.1042.00", "Glibenclamida 5 mg tableta")],
    "I10": [("010.000.2501.00", "Enalapril 10 mg tableta"), ("010.000.0574.00", "Losartán 50 mg tableta")],
    "E78": [("010.000.0657.00", "Atorvastatina 20 mg tableta")],
    "J45": [("010.000.0429.00", "Salbutamol suspensión en aerosol")],
    "O24": [("010.000.1050.00", "Insulina humana NPH")],
    "O13": [("010.000.0570.00", "Metildopa 250 mg tableta")],
    "F32": [("010.000.4483.00", "Fluoxetina 20 mg cápsula")],
}
CNIS_MEDS = "http://www.csg.gob.mx/cuadro-basico"

VITALS = [  # LOINC, display, unit, mean, sd
    ("8867-4", "Heart rate", "/min", 76, 10),
    ("8310-5", "Body temperature", "Cel", 36.7, 0.3),
    ("29463-7", "Body weight", "kg", 74, 14),
    ("8302-2", "Body height", "cm", 162, 9),
    ("39156-5", "Body mass index (BMI) [Ratio]", "kg/m2", 28.5, 4.5),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 96.5, 1.5),
]
LABS = [
    ("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 6.4, 1.3),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 118, 35),
    ("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 195, 35),
    ("2571-8", "Triglyceride [Mass/volume] in Serum or Plasma", "mg/dL", 170, 60),
    ("2160-0", "Creatinine [Mass/volume] in Serum or Plasma", "mg/dL", 0.95, 0.25),
]
WEARABLE = [  # LOINC, display, unit, mean, sd
    ("8867-4", "Heart rate", "/min", 78, 12),
    ("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 115, 30),
    ("55423-8", "Number of steps in unspecified time Pedometer", "/{tot}", 600, 400),
    ("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry", "%", 96.5, 1.5),
]
# Cartilla Nacional de Salud (CVX codes)
VACCINES = [
    ("19", "BCG", 0), ("08", "Hepatitis B (pediátrica)", 0), ("120", "Hexavalente (DTaP-Hib-IPV-HepB)", 0),
    ("116", "Rotavirus", 0), ("133", "Neumocócica conjugada 13", 0), ("03", "SRP (sarampión, rubéola, parotiditis)", 1),
    ("20", "DTaP", 4), ("140", "Influenza estacional", 0), ("115", "Tdap", 12), ("62", "VPH", 11),
    ("213", "COVID-19", 5), ("33", "Neumocócica polisacárida 23", 60),
]
ALLERGIES = [("764146007", "Penicilina"), ("293586001", "Ácido acetilsalicílico"), ("91935009", "Cacahuate"),
             ("300916003", "Látex"), ("227493005", "Mariscos")]
PROCEDURES = [("80146002", "Apendicectomía"), ("11466000", "Cesárea"), ("38102005", "Colecistectomía"),
              ("73761001", "Colonoscopía"), ("29303009", "Electrocardiograma")]

PAYERS = [  # Organization id, name, share
    ("org-imss", "Instituto Mexicano del Seguro Social (IMSS)", 0.50),
    ("org-issste", "Instituto de Seguridad y Servicios Sociales de los Trabajadores del Estado (ISSSTE)", 0.12),
    ("org-imss-bienestar", "IMSS-Bienestar", 0.30),
    ("org-gnp", "Seguros privados de gastos médicos", 0.08),
]
CLINICS = [("org-umf-%02d" % i, "Unidad de Medicina Familiar %d" % i) for i in range(1, 11)]
N_PRACTITIONERS = 40

NOW = dt.datetime(2026, 6, 30, 12, 0, 0, tzinfo=dt.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S") + "-06:00" if t.tzinfo is None else t.isoformat().replace("+00:00", "Z")


def codeable(system, code, display, text=None):
    c = {"coding": [{"system": system, "code": code, "display": display}]}
    c["text"] = text or display
    return c


def qty(value, unit):
    return {"value": value, "unit": unit, "system": UCUM, "code": unit}


CAT_VITALS = [codeable("http://terminology.hl7.org/CodeSystem/observation-category", "vital-signs", "Vital Signs")]
CAT_LAB = [codeable("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")]
CAT_ACTIVITY = [codeable("http://terminology.hl7.org/CodeSystem/observation-category", "activity", "Activity")]


# ---------------------------------------------------------------------------------------------
# Generator

class Population:
    def __init__(self, seed=42):
        self.seed = seed
        self.rng = random.Random(seed)

    def uid(self):
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    # shared resources -----------------------------------------------------------------------
    def shared(self):
        out = []
        for oid, name, _ in PAYERS:
            out.append({"resourceType": "Organization", "id": oid, "active": True, "name": name,
                        "type": [codeable("http://terminology.hl7.org/CodeSystem/organization-type", "ins", "Insurance Company")]})
        for oid, name in CLINICS:
            out.append({"resourceType": "Organization", "id": oid, "active": True, "name": name,
                        "type": [codeable("http://terminology.hl7.org/CodeSystem/organization-type", "prov", "Healthcare Provider")],
                        "partOf": {"reference": "Organization/org-imss"}})
        r = random.Random(self.seed + 1)
        for i in range(N_PRACTITIONERS):
            sex = r.choice(["male", "female"])
            given = r.choice(MALE if sex == "male" else FEMALE)
            out.append({"resourceType": "Practitioner", "id": "pra-%03d" % i, "active": True,
                        "identifier": [{"system": "https://www.cedulaprofesional.sep.gob.mx", "value": str(1000000 + i * 7919)}],
                        "name": [{"family": r.choice(SURNAMES), "given": [given], "prefix": ["Dr." if sex == "male" else "Dra."]}],
                        "gender": sex})
        return out

    # one patient ----------------------------------------------------------------------------
    def patient(self, wearable_days=None):
        """Returns (list of (uuid, resource)); references use urn:uuid:<id>."""
        r = self.rng
        sex = "female" if r.random() < 0.51 else "male"
        given = r.choice(FEMALE if sex == "female" else MALE)
        if r.random() < 0.3:
            given += " " + r.choice(FEMALE if sex == "female" else MALE)
        paternal, maternal = r.choice(SURNAMES), r.choice(SURNAMES)
        age = min(95, int(abs(r.gauss(34, 20))))
        birth = dt.date(NOW.year - age, 1, 1) + dt.timedelta(days=r.randrange(365))
        state = r.choice(list(STATES))
        diff = str(r.randrange(10)) if birth.year < 2000 else r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
        c = curp(paternal, maternal, given, birth, "M" if sex == "female" else "H", state, diff)
        pid = self.uid()
        pref = {"reference": "urn:uuid:" + pid}
        out = []
        out.append((pid, {
            "resourceType": "Patient",
            "identifier": [{"use": "official", "system": CURP_SYSTEM, "value": c}],
            "active": True,
            "name": [{"use": "official", "family": paternal + " " + maternal, "given": given.split(),
                      "extension": [{"url": "http://hl7.org/fhir/StructureDefinition/humanname-fathers-family", "valueString": paternal},
                                    {"url": "http://hl7.org/fhir/StructureDefinition/humanname-mothers-family", "valueString": maternal}]}],
            "telecom": [{"system": "phone", "value": "+52 55 %04d %04d" % (r.randrange(10000), r.randrange(10000)), "use": "mobile"}],
            "gender": sex,
            "birthDate": birth.isoformat(),
            "address": [{"use": "home", "line": ["%s %d" % (r.choice(STREETS), r.randrange(1, 2000))],
                         "state": STATES[state], "postalCode": "%05d" % r.randrange(1000, 99999), "country": "MX"}],
        }))
        # coverage
        x, acc = r.random(), 0.0
        payer = PAYERS[-1]
        for p in PAYERS:
            acc += p[2]
            if x < acc:
                payer = p
                break
        out.append((self.uid(), {
            "resourceType": "Coverage", "status": "active",
            "type": codeable("http://terminology.hl7.org/CodeSystem/v3-ActCode", "PUBLICPOL" if payer[0] != "org-gnp" else "EHCPOL",
                             "public healthcare" if payer[0] != "org-gnp" else "extended healthcare"),
            "subscriberId": "%011d" % r.randrange(10 ** 10, 10 ** 11),
            "beneficiary": pref, "relationship": codeable("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self", "Self"),
            "payor": [{"reference": "Organization/" + payer[0], "display": payer[1]}],
        }))
        # encounters
        clinic = r.choice(CLINICS)[0]
        doctor = "Practitioner/pra-%03d" % r.randrange(N_PRACTITIONERS)
        encounters = []
        for _ in range(r.randint(1, 6)):
            start = NOW - dt.timedelta(days=r.randrange(1, 5 * 365), minutes=r.randrange(600))
            eid = self.uid()
            encounters.append((eid, start))
            out.append((eid, {
                "resourceType": "Encounter", "status": "finished",
                "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory"},
                "type": [codeable(SNOMED, "185349003", "Encounter for check up", "Consulta de medicina familiar")],
                "subject": pref,
                "participant": [{"individual": {"reference": doctor}}],
                "period": {"start": iso(start), "end": iso(start + dt.timedelta(minutes=20))},
                "serviceProvider": {"reference": "Organization/" + clinic},
            }))
        encounters.sort(key=lambda e: e[1])

        def enc():
            return r.choice(encounters)

        # conditions and their medications
        for code, display, prev, min_age, only in CONDITIONS:
            if age < min_age or (only and only != sex) or (only and age > 45) or r.random() >= prev:
                continue
            eid, when = enc()
            out.append((self.uid(), {
                "resourceType": "Condition",
                "clinicalStatus": codeable("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                "verificationStatus": codeable("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
                "category": [codeable("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis", "Encounter Diagnosis")],
                "code": codeable(ICD10, code, display),
                "subject": pref, "encounter": {"reference": "urn:uuid:" + eid},
                "onsetDateTime": iso(when), "recordedDate": iso(when),
            }))
            for mcode, mdisplay in MEDS_FOR.get(code.split(".")[0], []):
                out.append((self.uid(), {
                    "resourceType": "MedicationRequest", "status": "active", "intent": "order",
                    "medicationCodeableConcept": codeable(CNIS_MEDS, mcode, mdisplay),
                    "subject": pref, "encounter": {"reference": "urn:uuid:" + eid},
                    "authoredOn": iso(when), "requester": {"reference": doctor},
                    "reasonCode": [codeable(ICD10, code, display)],
                    "dosageInstruction": [{"text": "1 cada 12 horas", "timing": {"repeat": {"frequency": 1, "period": 12, "periodUnit": "h"}}}],
                }))
        # vitals and labs per encounter
        for eid, when in encounters:
            for code, display, unit, mean, sd in VITALS:
                out.append((self.uid(), self._obs(pref, eid, when, CAT_VITALS, code, display, unit, r.gauss(mean, sd))))
            sys_bp = r.gauss(124, 15)
            out.append((self.uid(), {
                "resourceType": "Observation", "status": "final", "category": CAT_VITALS,
                "code": codeable(LOINC, "85354-9", "Blood pressure panel with all children optional"),
                "subject": pref, "encounter": {"reference": "urn:uuid:" + eid}, "effectiveDateTime": iso(when),
                "component": [
                    {"code": codeable(LOINC, "8480-6", "Systolic blood pressure"), "valueQuantity": qty(round(sys_bp), "mm[Hg]")},
                    {"code": codeable(LOINC, "8462-4", "Diastolic blood pressure"), "valueQuantity": qty(round(sys_bp * 0.65), "mm[Hg]")},
                ],
            }))
            if r.random() < 0.6:
                for code, display, unit, mean, sd in LABS:
                    out.append((self.uid(), self._obs(pref, eid, when, CAT_LAB, code, display, unit, max(0.1, r.gauss(mean, sd)))))
        # immunizations (Cartilla Nacional de Salud)
        for code, display, at_age in VACCINES:
            if age >= at_age and r.random() < 0.8:
                when = dt.datetime(birth.year + at_age, birth.month, birth.day, 10, tzinfo=dt.timezone.utc) + dt.timedelta(days=r.randrange(60))
                if when > NOW:
                    continue
                out.append((self.uid(), {
                    "resourceType": "Immunization", "status": "completed",
                    "vaccineCode": codeable(CVX, code, display),
                    "patient": pref, "occurrenceDateTime": iso(when), "primarySource": True,
                    "lotNumber": "L%06d" % r.randrange(10 ** 6),
                }))
        if r.random() < 0.15:
            code, display = r.choice(ALLERGIES)
            out.append((self.uid(), allergy(pref, code, display)))
        if r.random() < 0.15:
            code, display = r.choice(PROCEDURES)
            eid, when = enc()
            out.append((self.uid(), procedure(pref, code, display, when, eid)))
        # wearable
        days = wearable_days if wearable_days is not None else (1 if r.random() < 0.2 else 0)
        if days:
            did = self.uid()
            out.append((did, device(pref, "WR-%08d" % r.randrange(10 ** 8))))
            start = NOW - dt.timedelta(days=days)
            for h in range(24 * days):
                t = start + dt.timedelta(hours=h)
                for w in WEARABLE:
                    out.append((self.uid(), wearable_obs(r, pref, "urn:uuid:" + did, t, w)))
        return out

    def _obs(self, pref, eid, when, cat, code, display, unit, value):
        return {"resourceType": "Observation", "status": "final", "category": cat,
                "code": codeable(LOINC, code, display), "subject": pref,
                "encounter": {"reference": "urn:uuid:" + eid}, "effectiveDateTime": iso(when),
                "valueQuantity": qty(round(value, 2), unit)}


def allergy(pref, code, display):
    return {"resourceType": "AllergyIntolerance",
            "clinicalStatus": codeable("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
            "verificationStatus": codeable("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
            "type": "allergy", "category": ["medication"], "criticality": "high",
            "code": codeable(SNOMED, code, display), "patient": pref}


def procedure(pref, code, display, when, eid=None):
    p = {"resourceType": "Procedure", "status": "completed", "code": codeable(SNOMED, code, display),
         "subject": pref, "performedDateTime": iso(when)}
    if eid:
        p["encounter"] = {"reference": "urn:uuid:" + eid}
    return p


def device(pref, serial):
    return {"resourceType": "Device", "status": "active", "serialNumber": serial,
            "manufacturer": "Enlace Wearables", "type": codeable(SNOMED, "706689003", "Wearable health monitor"),
            "patient": pref}


def wearable_obs(r, pref, dref, t, w):
    code, display, unit, mean, sd = w
    v = max(0, r.gauss(mean, sd))
    if code == "59408-5":
        v = min(100.0, v)
    return {"resourceType": "Observation", "status": "final",
            "category": CAT_ACTIVITY if code == "55423-8" else CAT_VITALS,
            "code": codeable(LOINC, code, display), "subject": pref, "device": {"reference": dref},
            "effectiveDateTime": iso(t), "valueQuantity": qty(round(v, 1) if code != "55423-8" else int(v), unit)}


def transaction(items, method="POST"):
    """A transaction Bundle of (uuid, resource); POST with urn:uuid fullUrls, or PUT by id."""
    entries = []
    for rid, res in items:
        if method == "PUT":
            entries.append({"fullUrl": "%s/%s" % (res["resourceType"], res["id"]), "resource": res,
                            "request": {"method": "PUT", "url": "%s/%s" % (res["resourceType"], res["id"])}})
        else:
            entries.append({"fullUrl": "urn:uuid:" + rid, "resource": res,
                            "request": {"method": "POST", "url": res["resourceType"]}})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def as_stored(rid, res):
    """The NDJSON form: id = the uuid, urn:uuid references rewritten to Type/id."""
    s = json.dumps(dict(res, id=rid), ensure_ascii=False, separators=(",", ":"))
    return s


def _rewrite(resources):
    kinds = {rid: res["resourceType"] for rid, res in resources}
    out = []
    for rid, res in resources:
        s = as_stored(rid, res)
        if "urn:uuid:" in s:
            for ref in set(part[:36] for part in s.split("urn:uuid:")[1:]):
                s = s.replace("urn:uuid:" + ref, "%s/%s" % (kinds[ref], ref))
        out.append((res["resourceType"], s))
    return out


def generate(out, patients, seed=42, per_bundle=4, write_ndjson=True):
    pop = Population(seed)
    os.makedirs(os.path.join(out, "bundles"), exist_ok=True)
    shared = pop.shared()
    counts, ndjson_bytes, bundle_bytes = {}, 0, 0
    with open(os.path.join(out, "shared.json"), "w", encoding="utf-8") as f:
        json.dump(transaction([(None, s) for s in shared], "PUT"), f, ensure_ascii=False, separators=(",", ":"))
    files = {}
    if write_ndjson:
        os.makedirs(os.path.join(out, "ndjson"), exist_ok=True)
    for s in shared:
        counts[s["resourceType"]] = counts.get(s["resourceType"], 0) + 1
        if write_ndjson:
            t = s["resourceType"]
            if t not in files:
                files[t] = open(os.path.join(out, "ndjson", t + ".ndjson"), "w", encoding="utf-8")
            line = json.dumps(s, ensure_ascii=False, separators=(",", ":")) + "\n"
            files[t].write(line)
            ndjson_bytes += len(line.encode())
    n_bundles = 0
    for b in range(0, patients, per_bundle):
        items = []
        for _ in range(min(per_bundle, patients - b)):
            items += pop.patient()
        for _, res in items:
            counts[res["resourceType"]] = counts.get(res["resourceType"], 0) + 1
        data = json.dumps(transaction(items), ensure_ascii=False, separators=(",", ":")).encode()
        bundle_bytes += len(data)
        with open(os.path.join(out, "bundles", "%05d.json" % n_bundles), "wb") as f:
            f.write(data)
        n_bundles += 1
        if write_ndjson:
            for t, line in _rewrite(items):
                if t not in files:
                    files[t] = open(os.path.join(out, "ndjson", t + ".ndjson"), "w", encoding="utf-8")
                files[t].write(line + "\n")
                ndjson_bytes += len(line.encode()) + 1
    for f in files.values():
        f.close()
    manifest = {"seed": seed, "patients": patients, "bundles": n_bundles, "perBundle": per_bundle,
                "resources": sum(counts.values()), "counts": dict(sorted(counts.items())),
                "ndjsonBytes": ndjson_bytes, "bundleBytes": bundle_bytes}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--patients", type=int, default=int(os.environ.get("BENCH_PATIENTS", "100")))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--per-bundle", type=int, default=4)
    ap.add_argument("--no-ndjson", action="store_true")
    a = ap.parse_args()
    m = generate(a.out, a.patients, a.seed, a.per_bundle, not a.no_ndjson)
    print(json.dumps({k: v for k, v in m.items() if k != "counts"}))


if __name__ == "__main__":
    sys.exit(main())

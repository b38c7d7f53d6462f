// The Cartilla Nacional de Salud as FHIR knowledge artifacts (docs/prevention.md): a Bundle of
// ActivityDefinitions (what counts as done) and PlanDefinitions (who, when, how often), edition 2024.1.
// Edit the JSON below, or give the server a replacement (docs/prevention.md, "Replacing the schedule").

extension CartillaKnowledge {
    /// `cartilla-nacional-de-salud-2024.json`
    static let embeddedJSON = #"""
{
 "resourceType": "Bundle",
 "id": "cartilla-nacional-de-salud-2024",
 "meta": {
  "versionId": "2024.1"
 },
 "type": "collection",
 "entry": [
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-bcg",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-bcg",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-bcg",
    "version": "2024.1",
    "name": "bcg",
    "title": "BCG",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "BCG"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra las formas graves de tuberculosis (meníngea y miliar).",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against severe forms of tuberculosis (meningeal and miliary)."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "19"
      }
     ],
     "text": "BCG"
    },
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-live-vaccine",
      "valueBoolean": true
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-hepatitis-b",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-hepatitis-b",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-hepatitis-b",
    "version": "2024.1",
    "name": "hepatitis_b",
    "title": "Hepatitis B",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Hepatitis B"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra la hepatitis B, que daña el hígado.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against hepatitis B, which damages the liver."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "08"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "43"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "44"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "45"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "189"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "146"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "110"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "102"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "132"
      }
     ],
     "text": "Hepatitis B"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-hexavalente",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-hexavalente",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-hexavalente",
    "version": "2024.1",
    "name": "hexavalente",
    "title": "Hexavalente acelular",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Hexavalent (acellular)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra difteria, tos ferina, tétanos, poliomielitis, Haemophilus influenzae tipo b y hepatitis B.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against diphtheria, whooping cough, tetanus, polio, Haemophilus influenzae type b and hepatitis B."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "146"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "120"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "110"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "102"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "132"
      }
     ],
     "text": "Hexavalente acelular"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-rotavirus",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-rotavirus",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-rotavirus",
    "version": "2024.1",
    "name": "rotavirus",
    "title": "Rotavirus",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Rotavirus"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra la diarrea grave por rotavirus.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against severe rotavirus diarrhoea."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "119"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "116"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "122"
      }
     ],
     "text": "Rotavirus"
    },
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-live-vaccine",
      "valueBoolean": true
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-conjugada",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-neumococica-conjugada",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-conjugada",
    "version": "2024.1",
    "name": "neumococica_conjugada",
    "title": "Neumocócica conjugada",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Pneumococcal conjugate"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra neumonía, meningitis y otitis por neumococo.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against pneumococcal pneumonia, meningitis and ear infections."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "133"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "215"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "216"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "152"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "100"
      }
     ],
     "text": "Neumocócica conjugada"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-influenza",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-influenza",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-influenza",
    "version": "2024.1",
    "name": "influenza",
    "title": "Influenza estacional",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Seasonal influenza"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra la influenza y sus complicaciones; se aplica cada temporada invernal.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against influenza and its complications; given every winter season."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "88"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "135"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "140"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "141"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "144"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "150"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "153"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "155"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "158"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "161"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "166"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "168"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "171"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "185"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "186"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "197"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "205"
      }
     ],
     "text": "Influenza estacional"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-srp",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-srp",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-srp",
    "version": "2024.1",
    "name": "srp",
    "title": "SRP (sarampión, rubéola y parotiditis)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "MMR (measles, mumps, rubella)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege contra sarampión, rubéola y paperas.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects against measles, rubella and mumps."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "03"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "94"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "04"
      }
     ],
     "text": "SRP (sarampión, rubéola y parotiditis)"
    },
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-live-vaccine",
      "valueBoolean": true
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-dpt",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-dpt",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-dpt",
    "version": "2024.1",
    "name": "dpt",
    "title": "DPT (refuerzo)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "DTP booster"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Refuerza la protección contra difteria, tos ferina y tétanos.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Boosts protection against diphtheria, whooping cough and tetanus."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "01"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "20"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "106"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "107"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "130"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "146"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "120"
      }
     ],
     "text": "DPT (refuerzo)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-vph",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-vph",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-vph",
    "version": "2024.1",
    "name": "vph",
    "title": "Virus del papiloma humano (VPH)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Human papillomavirus (HPV)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Previene la infección por VPH, causa del cáncer cervicouterino.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Prevents HPV infection, the cause of cervical cancer."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "165"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "62"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "118"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "137"
      }
     ],
     "text": "Virus del papiloma humano (VPH)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-td",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
    "version": "2024.1",
    "name": "td",
    "title": "Td (tétanos y difteria)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Td (tetanus and diphtheria)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Mantiene la protección contra tétanos y difteria; refuerzo cada 10 años.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Keeps protection against tetanus and diphtheria; a booster every 10 years."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "09"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "113"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "138"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "139"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "115"
      }
     ],
     "text": "Td (tétanos y difteria)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-tdpa",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-tdpa",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-tdpa",
    "version": "2024.1",
    "name": "tdpa",
    "title": "Tdpa en el embarazo",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Tdap in pregnancy"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege al bebé contra la tos ferina en sus primeros meses; una dosis en cada embarazo.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects the baby against whooping cough in its first months; one dose in every pregnancy."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "115"
      }
     ],
     "text": "Tdpa en el embarazo"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-23",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-neumococica-23",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-23",
    "version": "2024.1",
    "name": "neumococica_23",
    "title": "Neumocócica polisacárida (23 serotipos)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Pneumococcal polysaccharide (PPSV23)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Protege a las personas mayores contra la neumonía por neumococo.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Protects older adults against pneumococcal pneumonia."
        }
       ]
      }
     ]
    },
    "kind": "ImmunizationRecommendation",
    "code": {
     "coding": [
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "33"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "215"
      },
      {
       "system": "http://hl7.org/fhir/sid/cvx",
       "code": "216"
      }
     ],
     "text": "Neumocócica polisacárida (23 serotipos)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-metabolico",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-tamiz-metabolico",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-metabolico",
    "version": "2024.1",
    "name": "tamiz_metabolico",
    "title": "Tamiz metabólico neonatal",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Newborn metabolic screening"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta a tiempo enfermedades del metabolismo (como hipotiroidismo congénito) que se pueden tratar.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects treatable metabolic diseases (such as congenital hypothyroidism) early."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "54089-8"
      },
      {
       "system": "http://loinc.org",
       "code": "57128-1"
      }
     ],
     "text": "Tamiz metabólico neonatal"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-auditivo",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-tamiz-auditivo",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-auditivo",
    "version": "2024.1",
    "name": "tamiz_auditivo",
    "title": "Tamiz auditivo neonatal",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Newborn hearing screening"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta problemas de audición desde el nacimiento.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects hearing problems from birth."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "54109-4"
      }
     ],
     "text": "Tamiz auditivo neonatal"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-agudeza-visual",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-agudeza-visual",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-agudeza-visual",
    "version": "2024.1",
    "name": "agudeza_visual",
    "title": "Agudeza visual",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Vision screening"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta problemas de la vista que afectan el aprendizaje.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects sight problems that affect learning."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://snomed.info/sct",
       "code": "16830007"
      }
     ],
     "text": "Agudeza visual"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-salud-bucal",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
    "version": "2024.1",
    "name": "salud_bucal",
    "title": "Revisión dental",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Dental check-up"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Previene caries y enfermedad de las encías.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Prevents tooth decay and gum disease."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://snomed.info/sct",
       "code": "34043003"
      }
     ],
     "text": "Revisión dental"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-imc",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
    "version": "2024.1",
    "name": "imc",
    "title": "Peso, talla e índice de masa corporal",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Weight, height and body mass index"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta sobrepeso, obesidad o desnutrición.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects overweight, obesity or undernutrition."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "39156-5"
      }
     ],
     "text": "Peso, talla e índice de masa corporal"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-presion-arterial",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-presion-arterial",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-presion-arterial",
    "version": "2024.1",
    "name": "presion_arterial",
    "title": "Presión arterial",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Blood pressure"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta la hipertensión arterial, que no da síntomas.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects high blood pressure, which has no symptoms."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "85354-9"
      },
      {
       "system": "http://loinc.org",
       "code": "55284-4"
      },
      {
       "system": "http://loinc.org",
       "code": "8480-6"
      }
     ],
     "text": "Presión arterial"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-glucosa",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-glucosa",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-glucosa",
    "version": "2024.1",
    "name": "glucosa",
    "title": "Glucosa en sangre (diabetes)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Blood glucose (diabetes)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta la diabetes tipo 2 antes de que cause daño.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects type 2 diabetes before it causes harm."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "1558-6"
      },
      {
       "system": "http://loinc.org",
       "code": "2339-0"
      },
      {
       "system": "http://loinc.org",
       "code": "2345-7"
      },
      {
       "system": "http://loinc.org",
       "code": "4548-4"
      },
      {
       "system": "http://loinc.org",
       "code": "17856-6"
      }
     ],
     "text": "Glucosa en sangre (diabetes)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-citologia",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-citologia",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-citologia",
    "version": "2024.1",
    "name": "citologia",
    "title": "Citología cervical (Papanicolaou)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Cervical cytology (Pap test)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta cambios en el cuello del útero antes de que sean cáncer.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects changes in the cervix before they become cancer."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "10524-7"
      },
      {
       "system": "http://loinc.org",
       "code": "19762-4"
      },
      {
       "system": "http://loinc.org",
       "code": "33717-0"
      },
      {
       "system": "http://loinc.org",
       "code": "47527-7"
      },
      {
       "system": "http://snomed.info/sct",
       "code": "171149006"
      }
     ],
     "text": "Citología cervical (Papanicolaou)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-prueba-vph",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-prueba-vph",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-prueba-vph",
    "version": "2024.1",
    "name": "prueba_vph",
    "title": "Prueba de VPH",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "HPV test"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta el virus que causa el cáncer cervicouterino.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects the virus that causes cervical cancer."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "30167-1"
      },
      {
       "system": "http://loinc.org",
       "code": "21440-3"
      },
      {
       "system": "http://loinc.org",
       "code": "77379-6"
      }
     ],
     "text": "Prueba de VPH"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-exploracion-mama",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-exploracion-mama",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-exploracion-mama",
    "version": "2024.1",
    "name": "exploracion_mama",
    "title": "Exploración clínica de mama",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Clinical breast examination"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Busca bultos o cambios en las mamas.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Looks for lumps or changes in the breasts."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://snomed.info/sct",
       "code": "268547008"
      }
     ],
     "text": "Exploración clínica de mama"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-mastografia",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-mastografia",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-mastografia",
    "version": "2024.1",
    "name": "mastografia",
    "title": "Mastografía",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Mammography"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta el cáncer de mama en etapas tempranas.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects breast cancer at early stages."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "24606-6"
      },
      {
       "system": "http://loinc.org",
       "code": "24604-1"
      },
      {
       "system": "http://snomed.info/sct",
       "code": "71651007"
      },
      {
       "system": "http://snomed.info/sct",
       "code": "241055006"
      }
     ],
     "text": "Mastografía"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-antigeno-prostatico",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-antigeno-prostatico",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-antigeno-prostatico",
    "version": "2024.1",
    "name": "antigeno_prostatico",
    "title": "Antígeno prostático",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Prostate-specific antigen (PSA)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Ayuda a detectar a tiempo el cáncer de próstata.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Helps detect prostate cancer early."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://loinc.org",
       "code": "2857-1"
      },
      {
       "system": "http://loinc.org",
       "code": "35741-8"
      }
     ],
     "text": "Antígeno prostático"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/ActivityDefinition/cns-osteoporosis",
   "resource": {
    "resourceType": "ActivityDefinition",
    "id": "cns-osteoporosis",
    "url": "https://enlace.mx/fhir/ActivityDefinition/cns-osteoporosis",
    "version": "2024.1",
    "name": "osteoporosis",
    "title": "Densitometría ósea (osteoporosis)",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Bone density scan (osteoporosis)"
        }
       ]
      }
     ]
    },
    "status": "active",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Detecta huesos frágiles antes de una fractura.",
    "_description": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Detects fragile bones before a fracture."
        }
       ]
      }
     ]
    },
    "kind": "ServiceRequest",
    "code": {
     "coding": [
      {
       "system": "http://snomed.info/sct",
       "code": "312681000"
      }
     ],
     "text": "Densitometría ósea (osteoporosis)"
    }
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/PlanDefinition/cns-ninas-ninos-0-9",
   "resource": {
    "resourceType": "PlanDefinition",
    "id": "cns-ninas-ninos-0-9",
    "url": "https://enlace.mx/fhir/PlanDefinition/cns-ninas-ninos-0-9",
    "version": "2024.1",
    "name": "CNS_ninas_ninos_0_9",
    "title": "Niñas y niños de 0 a 9 años",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Girls and boys aged 0 to 9"
        }
       ]
      }
     ]
    },
    "type": {
     "coding": [
      {
       "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
       "code": "clinical-protocol"
      }
     ]
    },
    "status": "active",
    "date": "2024-01-01",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Cartilla Nacional de Salud: Niñas y niños de 0 a 9 años.",
    "jurisdiction": [
     {
      "coding": [
       {
        "system": "urn:iso:std:iso:3166",
        "code": "MX"
       }
      ]
     }
    ],
    "relatedArtifact": [
     {
      "type": "documentation",
      "display": "Cartillas Nacionales de Salud, Secretaría de Salud (México); Esquema de Vacunación Universal, CeNSIA; NOM-036-SSA2-2012; ver docs/prevention.md"
     }
    ],
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
      "valueRange": {
       "high": {
        "value": 10,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       }
      }
     }
    ],
    "action": [
     {
      "id": "bcg",
      "title": "BCG",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "BCG"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-bcg",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "bcg-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 0,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 0,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 14,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "hepatitis-b-nacimiento",
      "title": "Hepatitis B",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Hepatitis B"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-hepatitis-b",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 7,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        }
       }
      ],
      "action": [
       {
        "id": "hepatitis-b-nacimiento-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 0,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 0,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 8,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "hexavalente",
      "title": "Hexavalente acelular",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Hexavalent (acellular)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-hexavalente",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "hexavalente-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 2,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 6,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       },
       {
        "id": "hexavalente-2",
        "title": "Dosis 2",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 2"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 4,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 10,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "hexavalente-1",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       },
       {
        "id": "hexavalente-3",
        "title": "Dosis 3",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 3"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 14,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "hexavalente-2",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       },
       {
        "id": "hexavalente-4",
        "title": "Dosis 4",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 4"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 18,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 12,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "hexavalente-3",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 6,
           "unit": "meses",
           "system": "http://unitsofmeasure.org",
           "code": "mo"
          }
         }
        ]
       }
      ]
     },
     {
      "id": "rotavirus",
      "title": "Rotavirus",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Rotavirus"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-rotavirus",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "rotavirus-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 2,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 6,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 15,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           }
          }
         }
        ]
       },
       {
        "id": "rotavirus-2",
        "title": "Dosis 2",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 2"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 4,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 10,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 8,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "rotavirus-1",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       }
      ]
     },
     {
      "id": "neumococica-conjugada",
      "title": "Neumocócica conjugada",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Pneumococcal conjugate"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-conjugada",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "neumococica-conjugada-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 2,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 6,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       },
       {
        "id": "neumococica-conjugada-2",
        "title": "Dosis 2",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 2"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 4,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 10,
            "unit": "semanas",
            "system": "http://unitsofmeasure.org",
            "code": "wk"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "neumococica-conjugada-1",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       },
       {
        "id": "neumococica-conjugada-3",
        "title": "Dosis 3",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 3"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 12,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 12,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           },
           "high": {
            "value": 5,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "neumococica-conjugada-2",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 8,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       }
      ]
     },
     {
      "id": "influenza-infantil",
      "title": "Influenza estacional",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Seasonal influenza"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-influenza",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 6,
          "unit": "meses",
          "system": "http://unitsofmeasure.org",
          "code": "mo"
         },
         "high": {
          "value": 5,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 2,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "srp",
      "title": "SRP (sarampión, rubéola y parotiditis)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "MMR (measles, mumps, rubella)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-srp",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "srp-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 12,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 12,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           },
           "high": {
            "value": 10,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       },
       {
        "id": "srp-2",
        "title": "Dosis 2",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 2"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 18,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 13,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           },
           "high": {
            "value": 10,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "srp-1",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       }
      ]
     },
     {
      "id": "dpt-refuerzo",
      "title": "DPT (refuerzo)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "DTP booster"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-dpt",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "dpt-refuerzo-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 4,
         "unit": "años",
         "system": "http://unitsofmeasure.org",
         "code": "a"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 4,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           },
           "high": {
            "value": 7,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "tamiz-metabolico",
      "title": "Tamiz metabólico neonatal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Newborn metabolic screening"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-metabolico",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        }
       }
      ],
      "action": [
       {
        "id": "tamiz-metabolico-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 3,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 2,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 30,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "tamiz-auditivo",
      "title": "Tamiz auditivo neonatal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Newborn hearing screening"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-tamiz-auditivo",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "tamiz-auditivo-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 0,
         "unit": "días",
         "system": "http://unitsofmeasure.org",
         "code": "d"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 0,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 3,
            "unit": "meses",
            "system": "http://unitsofmeasure.org",
            "code": "mo"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "agudeza-visual",
      "title": "Agudeza visual",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Vision screening"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-agudeza-visual",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 2,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 3,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "salud-bucal-infantil",
      "title": "Revisión dental",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Dental check-up"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 6,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 1,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/PlanDefinition/cns-adolescentes-10-19",
   "resource": {
    "resourceType": "PlanDefinition",
    "id": "cns-adolescentes-10-19",
    "url": "https://enlace.mx/fhir/PlanDefinition/cns-adolescentes-10-19",
    "version": "2024.1",
    "name": "CNS_adolescentes_10_19",
    "title": "Adolescentes de 10 a 19 años",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Adolescents aged 10 to 19"
        }
       ]
      }
     ]
    },
    "type": {
     "coding": [
      {
       "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
       "code": "clinical-protocol"
      }
     ]
    },
    "status": "active",
    "date": "2024-01-01",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Cartilla Nacional de Salud: Adolescentes de 10 a 19 años.",
    "jurisdiction": [
     {
      "coding": [
       {
        "system": "urn:iso:std:iso:3166",
        "code": "MX"
       }
      ]
     }
    ],
    "relatedArtifact": [
     {
      "type": "documentation",
      "display": "Cartillas Nacionales de Salud, Secretaría de Salud (México); Esquema de Vacunación Universal, CeNSIA; NOM-036-SSA2-2012; ver docs/prevention.md"
     }
    ],
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
      "valueRange": {
       "low": {
        "value": 10,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       },
       "high": {
        "value": 20,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       }
      }
     }
    ],
    "action": [
     {
      "id": "vph",
      "title": "Virus del papiloma humano (VPH)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Human papillomavirus (HPV)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-vph",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ],
      "action": [
       {
        "id": "vph-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 11,
         "unit": "años",
         "system": "http://unitsofmeasure.org",
         "code": "a"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 9,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           },
           "high": {
            "value": 15,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "hepatitis-b-adolescente",
      "title": "Hepatitis B",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Hepatitis B"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-hepatitis-b",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "hepatitis-b-adolescente-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 11,
         "unit": "años",
         "system": "http://unitsofmeasure.org",
         "code": "a"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 0,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 20,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       },
       {
        "id": "hepatitis-b-adolescente-2",
        "title": "Dosis 2",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 2"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 11,
         "unit": "años",
         "system": "http://unitsofmeasure.org",
         "code": "a"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 0,
            "unit": "días",
            "system": "http://unitsofmeasure.org",
            "code": "d"
           },
           "high": {
            "value": 20,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ],
        "relatedAction": [
         {
          "actionId": "hepatitis-b-adolescente-1",
          "relationship": "after-end",
          "offsetDuration": {
           "value": 4,
           "unit": "semanas",
           "system": "http://unitsofmeasure.org",
           "code": "wk"
          }
         }
        ]
       }
      ]
     },
     {
      "id": "td-adolescente",
      "title": "Td (tétanos y difteria)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Td (tetanus and diphtheria)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 10,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 15,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "imc-adolescente",
      "title": "Peso, talla e índice de masa corporal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Weight, height and body mass index"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "salud-bucal-adolescente",
      "title": "Revisión dental",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Dental check-up"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 6,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/PlanDefinition/cns-mujer-20-59",
   "resource": {
    "resourceType": "PlanDefinition",
    "id": "cns-mujer-20-59",
    "url": "https://enlace.mx/fhir/PlanDefinition/cns-mujer-20-59",
    "version": "2024.1",
    "name": "CNS_mujer_20_59",
    "title": "Mujeres de 20 a 59 años",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Women aged 20 to 59"
        }
       ]
      }
     ]
    },
    "type": {
     "coding": [
      {
       "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
       "code": "clinical-protocol"
      }
     ]
    },
    "status": "active",
    "date": "2024-01-01",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Cartilla Nacional de Salud: Mujeres de 20 a 59 años.",
    "jurisdiction": [
     {
      "coding": [
       {
        "system": "urn:iso:std:iso:3166",
        "code": "MX"
       }
      ]
     }
    ],
    "relatedArtifact": [
     {
      "type": "documentation",
      "display": "Cartillas Nacionales de Salud, Secretaría de Salud (México); Esquema de Vacunación Universal, CeNSIA; NOM-036-SSA2-2012; ver docs/prevention.md"
     }
    ],
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
      "valueRange": {
       "low": {
        "value": 20,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       },
       "high": {
        "value": 60,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       }
      }
     },
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
      "valueCode": "female"
     }
    ],
    "action": [
     {
      "id": "mujer-td",
      "title": "Td (tétanos y difteria)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Td (tetanus and diphtheria)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 10,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-tdpa-embarazo",
      "title": "Tdpa en el embarazo",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Tdap in pregnancy"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-tdpa",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 10,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-when-pregnant",
        "valueBoolean": true
       }
      ]
     },
     {
      "id": "mujer-influenza-embarazo",
      "title": "Influenza estacional",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Seasonal influenza"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-influenza",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 10,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 1,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-when-pregnant",
        "valueBoolean": true
       }
      ]
     },
     {
      "id": "mujer-presion-arterial",
      "title": "Presión arterial",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood pressure"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-presion-arterial",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-glucosa",
      "title": "Glucosa en sangre (diabetes)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood glucose (diabetes)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-glucosa",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 3,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-imc",
      "title": "Peso, talla e índice de masa corporal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Weight, height and body mass index"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-citologia",
      "title": "Citología cervical (Papanicolaou)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Cervical cytology (Pap test)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-citologia",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 3,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 25,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 35,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-prueba-vph",
      "title": "Prueba de VPH",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "HPV test"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-prueba-vph",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 5,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 35,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-exploracion-mama",
      "title": "Exploración clínica de mama",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Clinical breast examination"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-exploracion-mama",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 25,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-mastografia",
      "title": "Mastografía",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Mammography"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-mastografia",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 2,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 40,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mujer-salud-bucal",
      "title": "Revisión dental",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Dental check-up"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/PlanDefinition/cns-hombre-20-59",
   "resource": {
    "resourceType": "PlanDefinition",
    "id": "cns-hombre-20-59",
    "url": "https://enlace.mx/fhir/PlanDefinition/cns-hombre-20-59",
    "version": "2024.1",
    "name": "CNS_hombre_20_59",
    "title": "Hombres de 20 a 59 años",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Men aged 20 to 59"
        }
       ]
      }
     ]
    },
    "type": {
     "coding": [
      {
       "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
       "code": "clinical-protocol"
      }
     ]
    },
    "status": "active",
    "date": "2024-01-01",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Cartilla Nacional de Salud: Hombres de 20 a 59 años.",
    "jurisdiction": [
     {
      "coding": [
       {
        "system": "urn:iso:std:iso:3166",
        "code": "MX"
       }
      ]
     }
    ],
    "relatedArtifact": [
     {
      "type": "documentation",
      "display": "Cartillas Nacionales de Salud, Secretaría de Salud (México); Esquema de Vacunación Universal, CeNSIA; NOM-036-SSA2-2012; ver docs/prevention.md"
     }
    ],
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
      "valueRange": {
       "low": {
        "value": 20,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       },
       "high": {
        "value": 60,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       }
      }
     },
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
      "valueCode": "male"
     }
    ],
    "action": [
     {
      "id": "hombre-td",
      "title": "Td (tétanos y difteria)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Td (tetanus and diphtheria)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 10,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "hombre-presion-arterial",
      "title": "Presión arterial",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood pressure"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-presion-arterial",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "hombre-glucosa",
      "title": "Glucosa en sangre (diabetes)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood glucose (diabetes)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-glucosa",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 3,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "hombre-imc",
      "title": "Peso, talla e índice de masa corporal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Weight, height and body mass index"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "hombre-antigeno-prostatico",
      "title": "Antígeno prostático",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Prostate-specific antigen (PSA)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-antigeno-prostatico",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 45,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "hombre-salud-bucal",
      "title": "Revisión dental",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Dental check-up"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 20,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     }
    ]
   }
  },
  {
   "fullUrl": "https://enlace.mx/fhir/PlanDefinition/cns-adultos-mayores-60",
   "resource": {
    "resourceType": "PlanDefinition",
    "id": "cns-adultos-mayores-60",
    "url": "https://enlace.mx/fhir/PlanDefinition/cns-adultos-mayores-60",
    "version": "2024.1",
    "name": "CNS_adultos_mayores_60",
    "title": "Personas adultas mayores de 60 años y más",
    "_title": {
     "extension": [
      {
       "url": "http://hl7.org/fhir/StructureDefinition/translation",
       "extension": [
        {
         "url": "lang",
         "valueCode": "en"
        },
        {
         "url": "content",
         "valueString": "Older adults aged 60 and over"
        }
       ]
      }
     ]
    },
    "type": {
     "coding": [
      {
       "system": "http://terminology.hl7.org/CodeSystem/plan-definition-type",
       "code": "clinical-protocol"
      }
     ]
    },
    "status": "active",
    "date": "2024-01-01",
    "publisher": "Enlace (codificación de la Cartilla Nacional de Salud, Secretaría de Salud)",
    "description": "Cartilla Nacional de Salud: Personas adultas mayores de 60 años y más.",
    "jurisdiction": [
     {
      "coding": [
       {
        "system": "urn:iso:std:iso:3166",
        "code": "MX"
       }
      ]
     }
    ],
    "relatedArtifact": [
     {
      "type": "documentation",
      "display": "Cartillas Nacionales de Salud, Secretaría de Salud (México); Esquema de Vacunación Universal, CeNSIA; NOM-036-SSA2-2012; ver docs/prevention.md"
     }
    ],
    "extension": [
     {
      "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
      "valueRange": {
       "low": {
        "value": 60,
        "unit": "años",
        "system": "http://unitsofmeasure.org",
        "code": "a"
       }
      }
     }
    ],
    "action": [
     {
      "id": "mayor-influenza",
      "title": "Influenza estacional",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Seasonal influenza"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-influenza",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 2,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-neumococica",
      "title": "Neumocócica polisacárida (23 serotipos)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Pneumococcal polysaccharide (PPSV23)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-neumococica-23",
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ],
      "action": [
       {
        "id": "mayor-neumococica-1",
        "title": "Dosis 1",
        "_title": {
         "extension": [
          {
           "url": "http://hl7.org/fhir/StructureDefinition/translation",
           "extension": [
            {
             "url": "lang",
             "valueCode": "en"
            },
            {
             "url": "content",
             "valueString": "Dose 1"
            }
           ]
          }
         ]
        },
        "timingAge": {
         "value": 65,
         "unit": "años",
         "system": "http://unitsofmeasure.org",
         "code": "a"
        },
        "extension": [
         {
          "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
          "valueRange": {
           "low": {
            "value": 60,
            "unit": "años",
            "system": "http://unitsofmeasure.org",
            "code": "a"
           }
          }
         }
        ]
       }
      ]
     },
     {
      "id": "mayor-td",
      "title": "Td (tétanos y difteria)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Td (tetanus and diphtheria)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "immunization"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-td",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 10,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 6,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-presion-arterial",
      "title": "Presión arterial",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood pressure"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-presion-arterial",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-glucosa",
      "title": "Glucosa en sangre (diabetes)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Blood glucose (diabetes)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-glucosa",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 3,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-imc",
      "title": "Peso, talla e índice de masa corporal",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Weight, height and body mass index"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-imc",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-mastografia",
      "title": "Mastografía",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Mammography"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-mastografia",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 2,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 70,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mayor-prueba-vph",
      "title": "Prueba de VPH",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "HPV test"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-prueba-vph",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 5,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 65,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "female"
       }
      ]
     },
     {
      "id": "mayor-antigeno-prostatico",
      "title": "Antígeno prostático",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Prostate-specific antigen (PSA)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-antigeno-prostatico",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         },
         "high": {
          "value": 70,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-sex",
        "valueCode": "male"
       }
      ]
     },
     {
      "id": "mayor-osteoporosis",
      "title": "Densitometría ósea (osteoporosis)",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Bone density scan (osteoporosis)"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-osteoporosis",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 2,
        "periodUnit": "a"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     },
     {
      "id": "mayor-salud-bucal",
      "title": "Revisión dental",
      "_title": {
       "extension": [
        {
         "url": "http://hl7.org/fhir/StructureDefinition/translation",
         "extension": [
          {
           "url": "lang",
           "valueCode": "en"
          },
          {
           "url": "content",
           "valueString": "Dental check-up"
          }
         ]
        }
       ]
      },
      "code": [
       {
        "coding": [
         {
          "system": "https://enlace.mx/fhir/CodeSystem/prevention-item-kind",
          "code": "screening"
         }
        ]
       }
      ],
      "definitionCanonical": "https://enlace.mx/fhir/ActivityDefinition/cns-salud-bucal",
      "timingTiming": {
       "repeat": {
        "frequency": 1,
        "period": 12,
        "periodUnit": "mo"
       }
      },
      "extension": [
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-age-window",
        "valueRange": {
         "low": {
          "value": 60,
          "unit": "años",
          "system": "http://unitsofmeasure.org",
          "code": "a"
         }
        }
       },
       {
        "url": "https://enlace.mx/fhir/StructureDefinition/prevention-overdue-after",
        "valueDuration": {
         "value": 3,
         "unit": "meses",
         "system": "http://unitsofmeasure.org",
         "code": "mo"
        }
       }
      ]
     }
    ]
   }
  }
 ]
}
"""#
}

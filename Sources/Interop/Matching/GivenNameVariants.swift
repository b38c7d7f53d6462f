import FHIR

/// `GivenNameVariants`: abbreviations and common nicknames of Mexican given names, folded, each
/// mapped to the name it stands for. Knowledge as data: the table below is the file
/// `given-name-variants.json` (version 2026-12-01), embedded as a string literal so the module
/// needs no resources. Its source and the choices made are in docs/interop.md#names.
enum GivenNameVariants {
    static let json = """
    {"version": "2026-12-01",
     "abbreviations": {"ma": "maria", "ma.": "maria", "j": "jose", "fco": "francisco", "gpe": "guadalupe",
                       "ant": "antonio", "fdo": "fernando", "guill": "guillermo", "jl": "jose luis"},
     "nicknames": {"lupe": "guadalupe", "lupita": "guadalupe", "pepe": "jose", "paco": "francisco", "pancho": "francisco",
                   "chucho": "jesus", "memo": "guillermo", "lalo": "eduardo", "nacho": "ignacio", "tono": "antonio",
                   "concha": "concepcion", "chelo": "consuelo", "lola": "dolores", "lolita": "dolores", "pili": "pilar",
                   "rafa": "rafael", "quique": "enrique", "chema": "jose maria", "chayo": "rosario", "chabela": "isabel",
                   "chuy": "jesus", "beto": "alberto", "pancha": "francisca", "toni": "antonio", "meche": "mercedes",
                   "nando": "fernando", "goyo": "gregorio", "licha": "alicia", "rosy": "rosa", "paty": "patricia"}}
    """

    /// word → full name (abbreviations and nicknames together).
    static let table: [String: String] = {
        guard let parsed = try? JSONParser.parse(json) else { return [:] }
        var out: [String: String] = [:]
        for section in ["abbreviations", "nicknames"] {
            for (k, v) in parsed[section]?.objectValue ?? [] {
                // a multi-word expansion keeps its first word (the lookup is word by word)
                if let s = v.stringValue { out[k] = String(s.split(separator: " ").first ?? Substring(s)) }
            }
        }
        return out
    }()
}

/**
 * Vocabulary for generated businesses: countries (language, TLDs, cities, phone format),
 * trades, surnames and free-mail providers. Plain data.
 * @module
 */

/** Languages the world's pages are written in. */
export type Lang = "en" | "de" | "fr" | "es" | "nl" | "pt";

/** A country businesses come from. */
export interface Country {
  code: string;
  lang: Lang;
  /** TLDs (all in the Public Suffix List) with weights. */
  tlds: [string, number][];
  cities: string[];
  /**
   * Phone pattern: `#` is a random digit, `%` one of 2–9 (where a 0 or 1 makes no valid number),
   * `@` a digit replaced by the city's `areaCodes` (drawn all the same, so a seed's world stays).
   */
  phone: string;
  /** Area code per city, for `@@@` in `phone`. */
  areaCodes?: Record<string, string>;
  /** Free-mail domains people there use. */
  freeMail: string[];
  /** Weight of the country among businesses. */
  weight: number;
}

/** Countries with weights. */
export const COUNTRIES: Country[] = [
  {
    code: "US",
    lang: "en",
    tlds: [["com", 8], ["net", 1], ["us", 1]],
    cities: ["Austin", "Denver", "Portland", "Columbus", "Tucson", "Raleigh", "Boise", "Omaha"],
    phone: "+1 @@@-555-0###",
    areaCodes: {
      Austin: "512",
      Denver: "303",
      Portland: "503",
      Columbus: "614",
      Tucson: "520",
      Raleigh: "919",
      Boise: "208",
      Omaha: "402",
    },
    freeMail: ["gmail.com", "yahoo.com", "outlook.com"],
    weight: 24,
  },
  {
    code: "GB",
    lang: "en",
    tlds: [["co.uk", 7], ["com", 2], ["uk", 1]],
    cities: ["Leeds", "Bristol", "Manchester", "Norwich", "Cardiff", "York", "Brighton"],
    phone: "+44 20 7946 0###",
    freeMail: ["gmail.com", "btinternet.com", "hotmail.co.uk"],
    weight: 16,
  },
  {
    code: "DE",
    lang: "de",
    tlds: [["de", 9], ["com", 1]],
    cities: ["Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Münster", "Freiburg"],
    phone: "+49 30 ### ####",
    freeMail: ["gmx.de", "web.de", "t-online.de"],
    weight: 18,
  },
  {
    code: "AT",
    lang: "de",
    tlds: [["at", 8], ["co.at", 2]],
    cities: ["Wien", "Graz", "Linz", "Salzburg"],
    phone: "+43 1 %## ## ##",
    freeMail: ["gmx.at", "aon.at"],
    weight: 4,
  },
  {
    code: "FR",
    lang: "fr",
    tlds: [["fr", 8], ["com", 2]],
    cities: ["Paris", "Lyon", "Nantes", "Lille", "Bordeaux", "Rennes", "Toulouse"],
    phone: "+33 1 ## ## ## ##",
    freeMail: ["orange.fr", "free.fr", "laposte.net"],
    weight: 12,
  },
  {
    code: "ES",
    lang: "es",
    tlds: [["es", 8], ["com.es", 1], ["com", 1]],
    cities: ["Madrid", "Valencia", "Sevilla", "Zaragoza", "Málaga", "Bilbao"],
    phone: "+34 91 ### ## ##",
    freeMail: ["gmail.com", "hotmail.es", "yahoo.es"],
    weight: 10,
  },
  {
    code: "NL",
    lang: "nl",
    tlds: [["nl", 9], ["com", 1]],
    cities: ["Amsterdam", "Utrecht", "Rotterdam", "Groningen", "Eindhoven", "Haarlem"],
    phone: "+31 20 ### ####",
    freeMail: ["gmail.com", "ziggo.nl", "kpnmail.nl"],
    weight: 8,
  },
  {
    code: "PT",
    lang: "pt",
    tlds: [["pt", 8], ["com.pt", 2]],
    cities: ["Lisboa", "Porto", "Braga", "Coimbra", "Faro"],
    phone: "+351 21 ### ####",
    freeMail: ["gmail.com", "sapo.pt"],
    weight: 4,
  },
  {
    code: "BR",
    lang: "pt",
    tlds: [["com.br", 10]],
    cities: ["São Paulo", "Curitiba", "Recife", "Belo Horizonte", "Florianópolis"],
    phone: "+55 11 9####-####",
    freeMail: ["gmail.com", "uol.com.br", "bol.com.br"],
    weight: 4,
  },
];

/** A trade: its name per language and words for its pages. */
export interface Trade {
  names: Record<Lang, string>;
  /** English services, translated loosely by the page templates' phrases. */
  services: Record<Lang, string[]>;
}

/** Trades of small businesses. */
export const TRADES: Trade[] = [
  {
    names: {
      en: "Bakery",
      de: "Bäckerei",
      fr: "Boulangerie",
      es: "Panadería",
      nl: "Bakkerij",
      pt: "Padaria",
    },
    services: {
      en: ["Sourdough bread", "Birthday cakes", "Breakfast pastries"],
      de: ["Sauerteigbrot", "Torten auf Bestellung", "Frühstücksbrötchen"],
      fr: ["Pain au levain", "Gâteaux d'anniversaire", "Viennoiseries"],
      es: ["Pan de masa madre", "Tartas por encargo", "Bollería"],
      nl: ["Zuurdesembrood", "Taarten op bestelling", "Ontbijtbroodjes"],
      pt: ["Pão de fermentação natural", "Bolos de aniversário", "Pastelaria"],
    },
  },
  {
    names: {
      en: "Plumbing",
      de: "Sanitär",
      fr: "Plomberie",
      es: "Fontanería",
      nl: "Loodgietersbedrijf",
      pt: "Canalizações",
    },
    services: {
      en: ["Emergency repairs", "Boiler installation", "Bathroom fitting"],
      de: ["Notdienst", "Heizungsinstallation", "Badsanierung"],
      fr: ["Dépannage urgent", "Installation de chaudière", "Salle de bains"],
      es: ["Reparaciones urgentes", "Instalación de calderas", "Reformas de baño"],
      nl: ["Spoedreparaties", "Cv-ketel installatie", "Badkamerrenovatie"],
      pt: ["Reparações urgentes", "Instalação de caldeiras", "Remodelação de casas de banho"],
    },
  },
  {
    names: {
      en: "Dental Care",
      de: "Zahnarztpraxis",
      fr: "Cabinet Dentaire",
      es: "Clínica Dental",
      nl: "Tandartspraktijk",
      pt: "Clínica Dentária",
    },
    services: {
      en: ["Check-ups", "Teeth whitening", "Implants"],
      de: ["Prophylaxe", "Zahnaufhellung", "Implantate"],
      fr: ["Contrôles", "Blanchiment", "Implants"],
      es: ["Revisiones", "Blanqueamiento", "Implantes"],
      nl: ["Controles", "Tanden bleken", "Implantaten"],
      pt: ["Consultas", "Branqueamento", "Implantes"],
    },
  },
  {
    names: {
      en: "Hair Studio",
      de: "Friseursalon",
      fr: "Salon de Coiffure",
      es: "Peluquería",
      nl: "Kapsalon",
      pt: "Cabeleireiro",
    },
    services: {
      en: ["Cuts and colour", "Bridal styling", "Beard trims"],
      de: ["Schnitt und Farbe", "Brautfrisuren", "Bartpflege"],
      fr: ["Coupe et couleur", "Coiffure de mariage", "Taille de barbe"],
      es: ["Corte y color", "Peinados de novia", "Arreglo de barba"],
      nl: ["Knippen en kleuren", "Bruidskapsels", "Baard trimmen"],
      pt: ["Corte e coloração", "Penteados de noiva", "Barba"],
    },
  },
  {
    names: {
      en: "Auto Repair",
      de: "Autowerkstatt",
      fr: "Garage",
      es: "Taller Mecánico",
      nl: "Autogarage",
      pt: "Oficina Auto",
    },
    services: {
      en: ["Inspections", "Brake service", "Tyre changes"],
      de: ["Hauptuntersuchung", "Bremsenservice", "Reifenwechsel"],
      fr: ["Contrôle technique", "Freinage", "Changement de pneus"],
      es: ["ITV", "Frenos", "Cambio de neumáticos"],
      nl: ["APK-keuring", "Remmen", "Banden wisselen"],
      pt: ["Inspeções", "Travões", "Pneus"],
    },
  },
  {
    names: {
      en: "Landscaping",
      de: "Gartenbau",
      fr: "Paysagiste",
      es: "Jardinería",
      nl: "Hoveniersbedrijf",
      pt: "Jardinagem",
    },
    services: {
      en: ["Garden design", "Lawn care", "Tree surgery"],
      de: ["Gartenplanung", "Rasenpflege", "Baumpflege"],
      fr: ["Création de jardins", "Entretien de pelouse", "Élagage"],
      es: ["Diseño de jardines", "Mantenimiento de césped", "Poda"],
      nl: ["Tuinontwerp", "Gazononderhoud", "Boomverzorging"],
      pt: ["Design de jardins", "Manutenção de relvados", "Poda de árvores"],
    },
  },
  {
    names: {
      en: "Accounting",
      de: "Steuerberatung",
      fr: "Expertise Comptable",
      es: "Asesoría Fiscal",
      nl: "Administratiekantoor",
      pt: "Contabilidade",
    },
    services: {
      en: ["Bookkeeping", "Tax returns", "Payroll"],
      de: ["Buchhaltung", "Steuererklärungen", "Lohnabrechnung"],
      fr: ["Tenue comptable", "Déclarations fiscales", "Paie"],
      es: ["Contabilidad", "Declaraciones de la renta", "Nóminas"],
      nl: ["Boekhouding", "Belastingaangifte", "Salarisadministratie"],
      pt: ["Contabilidade", "Declarações de IRS", "Processamento salarial"],
    },
  },
  {
    names: {
      en: "Flowers",
      de: "Blumen",
      fr: "Fleuriste",
      es: "Floristería",
      nl: "Bloemen",
      pt: "Floricultura",
    },
    services: {
      en: ["Wedding flowers", "Same-day delivery", "Funeral wreaths"],
      de: ["Hochzeitsfloristik", "Lieferung am selben Tag", "Trauerkränze"],
      fr: ["Fleurs de mariage", "Livraison le jour même", "Couronnes"],
      es: ["Flores de boda", "Entrega en el día", "Coronas"],
      nl: ["Bruidsboeketten", "Dezelfde dag bezorgd", "Rouwkransen"],
      pt: ["Flores para casamentos", "Entrega no próprio dia", "Coroas de flores"],
    },
  },
  {
    names: {
      en: "Carpentry",
      de: "Tischlerei",
      fr: "Menuiserie",
      es: "Carpintería",
      nl: "Timmerbedrijf",
      pt: "Carpintaria",
    },
    services: {
      en: ["Fitted kitchens", "Staircases", "Custom furniture"],
      de: ["Einbauküchen", "Treppenbau", "Möbel nach Maß"],
      fr: ["Cuisines sur mesure", "Escaliers", "Mobilier"],
      es: ["Cocinas a medida", "Escaleras", "Muebles"],
      nl: ["Inbouwkeukens", "Trappen", "Meubels op maat"],
      pt: ["Cozinhas por medida", "Escadas", "Mobiliário"],
    },
  },
  {
    names: {
      en: "Café",
      de: "Café",
      fr: "Café",
      es: "Cafetería",
      nl: "Koffiehuis",
      pt: "Café",
    },
    services: {
      en: ["Specialty coffee", "Brunch", "Homemade cakes"],
      de: ["Spezialitätenkaffee", "Frühstück", "Hausgemachter Kuchen"],
      fr: ["Café de spécialité", "Brunch", "Pâtisseries maison"],
      es: ["Café de especialidad", "Brunch", "Tartas caseras"],
      nl: ["Speciaalkoffie", "Brunch", "Huisgemaakte taart"],
      pt: ["Café de especialidade", "Brunch", "Bolos caseiros"],
    },
  },
];

/** The IT-services trade, used only by pages that talk about domains and hosting. */
export const TRADE_IT: Trade = {
  names: {
    en: "IT Services",
    de: "IT-Service",
    fr: "Informatique",
    es: "Informática",
    nl: "ICT-diensten",
    pt: "Informática",
  },
  services: {
    en: ["Computer repairs", "Network set-up", "Website care"],
    de: ["PC-Reparatur", "Netzwerke", "Website-Betreuung"],
    fr: ["Dépannage informatique", "Réseaux", "Maintenance de sites"],
    es: ["Reparación de ordenadores", "Redes", "Mantenimiento web"],
    nl: ["Computerreparatie", "Netwerken", "Websitebeheer"],
    pt: ["Reparação de computadores", "Redes", "Manutenção de sites"],
  },
};

/** Surnames per language. */
export const SURNAMES: Record<Lang, string[]> = {
  en: ["Miller", "Hughes", "Patel", "Turner", "Baker", "Collins", "Reed", "Ward", "Price", "Hayes"],
  de: ["Müller", "Schmidt", "Becker", "Wagner", "Schäfer", "Koch", "Weiß", "Hoffmann", "Krüger"],
  fr: ["Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Roux", "Fontaine"],
  es: ["García", "Martínez", "López", "Sánchez", "Romero", "Navarro", "Torres", "Ruiz", "Molina"],
  nl: ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos"],
  pt: ["Silva", "Santos", "Ferreira", "Costa", "Oliveira", "Rodrigues", "Almeida", "Sousa"],
};

/** Words that make a name distinct when the simple one is taken. */
export const EXTRA_WORDS = ["prime", "north", "central", "city", "home", "family", "pro", "plus"];

/**
 * Pages of real small businesses (label `live`), including the hard negatives that mention
 * "coming soon" or "domain" in ordinary text or announce a coming feature in the headline, tiny
 * pages and JavaScript app shells, and the pages of domains that redirect elsewhere (label
 * `redirect`).
 * @module
 */
import type { Lang } from "./world_names.ts";
import type { PageContext, PageDef, Picker } from "./world_types.ts";

interface Phrases {
  home: string;
  about: string;
  services: string;
  contact: string;
  hours: string;
  hoursText: string[];
  welcome: (n: string) => string;
  intro: (trade: string, city: string, since: number) => string;
  story: string[];
  call: string;
  legal: string;
  privacy: string;
  reviews: string;
  quote: string[];
  address: string[];
  soonBanner: string[];
  domainText: string[];
  moved: string;
}

const P: Record<Lang, Phrases> = {
  en: {
    home: "Home",
    about: "About us",
    services: "Services",
    contact: "Contact",
    hours: "Opening hours",
    hoursText: ["Mon–Fri 8:00–18:00, Sat 9:00–13:00", "Tue–Sat 9am–5pm", "Mon–Sat 7:30–17:30"],
    welcome: (n) => `Welcome to ${n}`,
    intro: (t, c, y) =>
      `Your local ${t.toLowerCase().replace(/^it /, "IT ")} specialists in ${c} since ${y}.`,
    story: [
      "We are a family-run business and take pride in honest prices and careful work.",
      "Our small team has served neighbours and local companies for many years.",
      "Every job is done by trained staff, and we are happy to give a free quote.",
    ],
    call: "Call us",
    legal: "Terms",
    privacy: "Privacy policy",
    reviews: "What our customers say",
    quote: ["Friendly, quick and fairly priced.", "Highly recommended!", "Great service again."],
    address: ["12 High Street", "4 Mill Lane", "27 Station Road", "8 Church Road"],
    soonBanner: [
      "Our online shop is coming soon — until then, simply order by phone!",
      "Coming soon: online booking. For now, please call us to make an appointment.",
      "New: our second location opens in spring. The website for it is under construction.",
    ],
    domainText: [
      "We also help small businesses register a domain name, set up email and keep their website online.",
      "Is your domain about to expire? We look after renewals, hosting and backups for our customers.",
      "Domain transfers, web hosting and Microsoft 365 set-up: one contact for all your IT.",
    ],
    moved: "We have moved!",
  },
  de: {
    home: "Startseite",
    about: "Über uns",
    services: "Leistungen",
    contact: "Kontakt",
    hours: "Öffnungszeiten",
    hoursText: ["Mo–Fr 8–18 Uhr, Sa 9–13 Uhr", "Di–Sa 9–17 Uhr", "Mo–Fr 7:30–16:30 Uhr"],
    welcome: (n) => `Willkommen bei ${n}`,
    intro: (t, c, y) => `Ihr Fachbetrieb (${t}) in ${c} – seit ${y}.`,
    story: [
      "Wir sind ein Familienbetrieb und legen Wert auf faire Preise und saubere Arbeit.",
      "Unser kleines Team ist seit vielen Jahren für Privatkunden und Betriebe der Region da.",
      "Gerne erstellen wir Ihnen ein unverbindliches Angebot.",
    ],
    call: "Rufen Sie uns an",
    legal: "Impressum",
    privacy: "Datenschutz",
    reviews: "Das sagen unsere Kunden",
    quote: ["Freundlich, schnell und fair.", "Absolut empfehlenswert!", "Immer wieder gerne."],
    address: ["Hauptstraße 12", "Bahnhofstraße 4", "Lindenweg 27", "Marktplatz 8"],
    soonBanner: [
      "Unser Onlineshop kommt bald – bis dahin bestellen Sie gerne telefonisch!",
      "Demnächst: Online-Terminbuchung. Bis dahin erreichen Sie uns telefonisch.",
      "Neu: Unsere zweite Filiale eröffnet im Frühjahr, die Seite dazu ist noch im Aufbau.",
    ],
    domainText: [
      "Wir kümmern uns auch um Ihre Domain, Ihr E-Mail-Postfach und das Hosting Ihrer Website.",
      "Ihre Domain läuft bald aus? Wir übernehmen Verlängerung, Umzug und Backups.",
      "Domainumzug, Webhosting und Microsoft 365: ein Ansprechpartner für Ihre IT.",
    ],
    moved: "Wir sind umgezogen!",
  },
  fr: {
    home: "Accueil",
    about: "Qui sommes-nous",
    services: "Prestations",
    contact: "Contact",
    hours: "Horaires",
    hoursText: ["Lun–Ven 8h–18h, Sam 9h–13h", "Mar–Sam 9h–17h", "Lun–Sam 7h30–19h"],
    welcome: (n) => `Bienvenue chez ${n}`,
    intro: (t, c, y) => `${t} à ${c} depuis ${y}.`,
    story: [
      "Entreprise familiale, nous privilégions des prix honnêtes et un travail soigné.",
      "Notre petite équipe est au service des particuliers et des entreprises du quartier.",
      "Devis gratuit sur simple demande.",
    ],
    call: "Appelez-nous",
    legal: "Mentions légales",
    privacy: "Politique de confidentialité",
    reviews: "L'avis de nos clients",
    quote: ["Accueil chaleureux et prix corrects.", "Je recommande !", "Toujours parfait."],
    address: ["12 rue de la République", "4 place du Marché", "27 avenue Jean Jaurès"],
    soonBanner: [
      "Notre boutique en ligne arrive bientôt – en attendant, commandez par téléphone !",
      "Bientôt : la prise de rendez-vous en ligne. En attendant, appelez-nous.",
      "Nouveau : notre deuxième adresse ouvre au printemps, sa page est en construction.",
    ],
    domainText: [
      "Nous aidons aussi les commerçants à réserver leur nom de domaine et à créer leurs adresses e-mail.",
      "Votre nom de domaine expire bientôt ? Nous gérons le renouvellement et l'hébergement.",
    ],
    moved: "Nous avons déménagé !",
  },
  es: {
    home: "Inicio",
    about: "Quiénes somos",
    services: "Servicios",
    contact: "Contacto",
    hours: "Horario",
    hoursText: ["Lun–Vie 9:00–14:00 y 17:00–20:00", "Lun–Sáb 8:00–15:00"],
    welcome: (n) => `Bienvenidos a ${n}`,
    intro: (t, c, y) => `${t} en ${c} desde ${y}.`,
    story: [
      "Somos un negocio familiar y cuidamos cada detalle con precios justos.",
      "Nuestro equipo atiende a vecinos y empresas de la zona desde hace años.",
      "Pida su presupuesto sin compromiso.",
    ],
    call: "Llámenos",
    legal: "Aviso legal",
    privacy: "Política de privacidad",
    reviews: "Opiniones de clientes",
    quote: ["Trato excelente y rápido.", "¡Muy recomendable!", "Siempre repetimos."],
    address: ["Calle Mayor 12", "Avenida de la Constitución 4", "Plaza España 27"],
    soonBanner: [
      "Nuestra tienda online estará disponible próximamente. ¡Mientras tanto, pida por teléfono!",
      "Próximamente: reservas online. De momento, llámenos para pedir cita.",
    ],
    domainText: [
      "También ayudamos a pequeñas empresas a registrar su dominio y configurar el correo.",
      "¿Su dominio caduca pronto? Nos encargamos de la renovación y del alojamiento web.",
    ],
    moved: "¡Nos hemos mudado!",
  },
  nl: {
    home: "Home",
    about: "Over ons",
    services: "Diensten",
    contact: "Contact",
    hours: "Openingstijden",
    hoursText: ["Ma–Vr 8:00–18:00, Za 9:00–13:00", "Di–Za 9:00–17:00"],
    welcome: (n) => `Welkom bij ${n}`,
    intro: (t, c, y) => `${t} in ${c}, sinds ${y}.`,
    story: [
      "Wij zijn een familiebedrijf met eerlijke prijzen en vakwerk.",
      "Ons kleine team helpt al jaren particulieren en bedrijven in de regio.",
      "Vraag gerust een vrijblijvende offerte aan.",
    ],
    call: "Bel ons",
    legal: "Algemene voorwaarden",
    privacy: "Privacyverklaring",
    reviews: "Wat klanten zeggen",
    quote: ["Vriendelijk en snel geholpen.", "Echt een aanrader!", "Top service."],
    address: ["Dorpsstraat 12", "Stationsweg 4", "Kerkplein 27"],
    soonBanner: [
      "Onze webshop komt binnenkort! Tot die tijd kunt u telefonisch bestellen.",
      "Binnenkort: online afspraken maken. Bel ons voorlopig gewoon even.",
    ],
    domainText: [
      "Wij helpen ook kleine bedrijven met het registreren van een domeinnaam en e-mail.",
      "Verloopt uw domein binnenkort? Wij regelen verlenging, hosting en back-ups.",
    ],
    moved: "Wij zijn verhuisd!",
  },
  pt: {
    home: "Início",
    about: "Sobre nós",
    services: "Serviços",
    contact: "Contactos",
    hours: "Horário",
    hoursText: ["Seg–Sex 9h–19h, Sáb 9h–13h", "Ter–Sáb 8h–18h"],
    welcome: (n) => `Bem-vindo à ${n}`,
    intro: (t, c, y) => `${t} em ${c} desde ${y}.`,
    story: [
      "Somos uma empresa familiar com preços justos e trabalho cuidado.",
      "A nossa equipa serve clientes particulares e empresas da região há muitos anos.",
      "Peça já o seu orçamento sem compromisso.",
    ],
    call: "Ligue-nos",
    legal: "Termos e condições",
    privacy: "Política de privacidade",
    reviews: "O que dizem os clientes",
    quote: ["Atendimento impecável.", "Recomendo vivamente!", "Voltarei sempre."],
    address: ["Rua Direita 12", "Avenida da Liberdade 4", "Praça do Comércio 27"],
    soonBanner: [
      "A nossa loja online estará disponível em breve – até lá, encomende por telefone!",
      "Em breve: marcações online. Por agora, ligue-nos para marcar.",
    ],
    domainText: [
      "Também ajudamos pequenas empresas a registar o seu domínio e a configurar o e-mail.",
      "O seu domínio está a expirar? Tratamos da renovação e do alojamento.",
    ],
    moved: "Mudámos de casa!",
  },
};

/**
 * Headlines of live business pages that announce a feature to come (hard negatives): each holds
 * a coming-soon phrase that placeholder wording matches ("bald online", "bientôt disponible"…)
 * plus at least three other words in the same segment, with no `| – — · : ;` separators, so
 * the headline is about the business, not the site. The world has no Italian pages.
 */
export const SOON_HEADLINES: Record<Lang, readonly string[]> = {
  en: [
    "Our new online shop is coming soon",
    "Online booking for appointments is coming soon",
    "Gift vouchers to order online are coming soon",
  ],
  de: [
    "Unser neuer Onlineshop ist bald online",
    "Die Online-Terminbuchung ist bei uns demnächst verfügbar",
    "Gutscheine für Ihre Liebsten gibt es in Kürze online",
  ],
  fr: [
    "Notre boutique en ligne sera bientôt disponible",
    "La prise de rendez-vous en ligne sera bientôt disponible",
    "Nos bons cadeaux seront bientôt en ligne",
  ],
  es: [
    "Nuestra tienda online estará próximamente disponible",
    "La reserva de citas online estará próximamente disponible",
    "Nuestro catálogo de productos estará próximamente en línea",
  ],
  nl: [
    "Onze nieuwe webshop is binnenkort online",
    "Onze online afsprakenplanner is binnenkort beschikbaar",
    "Cadeaubonnen zijn binnenkort online te bestellen",
  ],
  pt: [
    "A nossa loja online estará em breve disponível",
    "O serviço de marcações online estará em breve disponível",
    "Os nossos vales de oferta vão estar em breve online",
  ],
};

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

function head(c: PageContext, p: Picker, extra = ""): string {
  const ph = P[c.lang];
  const title = p.pick([
    `${c.name} | ${c.city}`,
    `${c.name} – ${c.trade.names[c.lang]} ${c.city}`,
    c.name,
  ]);
  return `<!DOCTYPE html>\n<html lang="${c.lang}">\n<head>\n<meta charset="utf-8">\n` +
    `<meta name="viewport" content="width=device-width, initial-scale=1">\n` +
    `<title>${esc(title)}</title>\n<meta name="description" content="${
      esc(ph.intro(c.trade.names[c.lang], c.city, c.since))
    }">\n` +
    `<link rel="stylesheet" href="/assets/css/style.css?v=${p.int(1, 40)}">\n${extra}</head>\n`;
}

function contactBlock(c: PageContext, p: Picker): string {
  const ph = P[c.lang];
  const lines = [`<strong>${esc(c.name)}</strong>`, `${p.pick(ph.address)}, ${esc(c.city)}`];
  if (c.phone) lines.push(`${ph.call}: <a href="tel:${c.phone.replace(/ /g, "")}">${c.phone}</a>`);
  if (c.email) lines.push(`<a href="mailto:${c.email}">${c.email}</a>`);
  return `<section id="contact"><h2>${ph.contact}</h2><address>${
    lines.join("<br>\n")
  }</address>\n<h3>${ph.hours}</h3><p>${p.pick(ph.hoursText)}</p></section>\n`;
}

/** Hard-negative additions to {@link businessPage}. */
interface Extras {
  /** Notice above the main content. */
  banner?: string;
  /** Paragraph in the "about" section. */
  aside?: string;
  /** The `<h1>` instead of the welcome line (which then follows as a paragraph). */
  headline?: string;
}

/** A full business page; `extras` add hard-negative text. */
function businessPage(c: PageContext, p: Picker, extras: Extras = {}): string {
  const { banner = "", aside = "", headline } = extras;
  const ph = P[c.lang];
  const nav = [ph.home, ph.about, ph.services, ph.contact]
    .map((t, i) => `<li><a href="/${["", "about", "services", "contact"][i]}">${t}</a></li>`)
    .join("");
  const services = c.trade.services[c.lang].map((s) => `<li>${esc(s)}</li>`).join("\n");
  const story = ph.story.filter(() => p.chance(0.8)).join(" ") || ph.story[0];
  const reviews = p.chance(0.5)
    ? `<section class="reviews"><h2>${ph.reviews}</h2><blockquote>${
      p.pick(ph.quote)
    }</blockquote></section>\n`
    : "";
  const bannerHtml = banner ? `<div class="notice">${esc(banner)}</div>\n` : "";
  const asideHtml = aside ? `<p>${esc(aside)}</p>\n` : "";
  const hero = headline
    ? `<h1>${esc(headline)}</h1>\n<p class="lead">${esc(ph.welcome(c.name))}</p>`
    : `<h1>${esc(ph.welcome(c.name))}</h1>`;
  return head(c, p) +
    `<body>\n<header><a class="logo" href="/">${esc(c.name)}</a><nav><ul>${nav}</ul></nav>` +
    `</header>\n${bannerHtml}<main>\n<section class="hero">${hero}\n<p>${
      esc(ph.intro(c.trade.names[c.lang], c.city, c.since))
    }</p></section>\n` +
    `<section id="about"><h2>${ph.about}</h2><p>${esc(story)}</p>\n${asideHtml}</section>\n` +
    `<section id="services"><h2>${ph.services}</h2><ul>\n${services}\n</ul></section>\n` +
    reviews + contactBlock(c, p) +
    `</main>\n<footer>© ${p.pick(["2024", "2025", `${c.since}–2025`])} ${esc(c.name)} · ` +
    `<a href="/legal">${ph.legal}</a> · <a href="/privacy">${ph.privacy}</a></footer>\n` +
    `<script src="/assets/js/main.js" defer></script>\n</body>\n</html>\n`;
}

function subPage(c: PageContext, p: Picker, title: string, text: string): string {
  return head(c, p) +
    `<body><header><a href="/">${esc(c.name)}</a></header><main><h1>${esc(title)}</h1><p>${
      esc(text)
    }</p></main>${contactBlock(c, p)}</body></html>\n`;
}

const livePaths = {
  "/contact": (c: PageContext, p: Picker) => subPage(c, p, P[c.lang].contact, P[c.lang].story[2]),
  "/about": (c: PageContext, p: Picker) => subPage(c, p, P[c.lang].about, P[c.lang].story[0]),
  "/services": (c: PageContext, p: Picker) =>
    subPage(c, p, P[c.lang].services, c.trade.services[c.lang].join(" · ")),
};

/** Pages of live sites by template id. */
export const LIVE_PAGES: Record<string, PageDef> = {
  business: { html: (c, p) => businessPage(c, p), paths: livePaths },
  business_cloudflare: {
    headers: { server: "cloudflare", "cf-ray": "8a1b2c3d4e5f6789-AMS", "cf-cache-status": "HIT" },
    html: (c, p) => businessPage(c, p),
    paths: livePaths,
  },
  coming_soon_mention: {
    html: (c, p) => businessPage(c, p, { banner: p.pick(P[c.lang].soonBanner) }),
    paths: livePaths,
  },
  coming_soon_headline: {
    html: (c, p) => businessPage(c, p, { headline: p.pick(SOON_HEADLINES[c.lang]) }),
    paths: livePaths,
  },
  domain_mention: {
    html: (c, p) => businessPage(c, p, { aside: p.pick(P[c.lang].domainText) }),
    paths: livePaths,
  },
  tiny: {
    html: (c, p) => {
      const ph = P[c.lang];
      return `<html><head><title>${esc(c.name)}</title></head><body><h1>${esc(c.name)}</h1>\n<p>${
        p.pick(ph.address)
      }, ${esc(c.city)}${c.phone ? ` · ${c.phone}` : ""}</p>\n` +
        `<p>${ph.hours}: ${p.pick(ph.hoursText)}</p></body></html>\n`;
    },
  },
  // A site rendered by JavaScript: the HTML holds no text, only the app's mount point and bundle
  // (React/Vite, Angular, Flutter web or Blazor).
  js_app: {
    html: (c, p) => {
      const bundle = p.int(100000, 999999).toString(16);
      const app = p.pick([
        `<div id="root"></div><script type="module" src="/assets/index-${bundle}.js"></script>`,
        `<app-root></app-root><script src="/main.${bundle}.js" type="module"></script>`,
        `<script src="/flutter_bootstrap.js" async></script>`,
        `<div id="app"><svg class="loading-progress"><circle r="40%"/></svg></div>` +
        `<script src="/_framework/blazor.webassembly.js"></script>`,
      ]);
      return head(c, p, `<link rel="manifest" href="/manifest.json">\n`) +
        `<body><noscript>${
          esc(c.name)
        }: please enable JavaScript to view our menu, prices and opening hours.</noscript>` +
        `${app}</body></html>\n`;
    },
    catchAll: true,
  },
};

/** Pages of domains that send visitors to another (live) domain. */
export const REDIRECT_PAGES: Record<string, PageDef> = {
  meta_refresh: {
    html: (c) =>
      `<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(c.name)}</title>` +
      `<meta http-equiv="refresh" content="0; url=${c.target}"></head><body>` +
      `<p>${P[c.lang].moved} <a href="${c.target}">${c.target}</a></p></body></html>\n`,
    catchAll: true,
  },
  js_redirect: {
    html: (c) =>
      `<html><head><title>${esc(c.name)}</title><script>window.location.replace(${
        JSON.stringify(c.target)
      });</script></head><body><a href="${c.target}">${c.target}</a></body></html>\n`,
    catchAll: true,
  },
};

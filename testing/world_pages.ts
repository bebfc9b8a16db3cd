/**
 * Page templates of domains without a real website: parked (ad landers, JS landers, several
 * languages), for sale (own pages and marketplace landings), placeholders (coming soon, under
 * construction, default server pages, registrar and unclaimed platform pages), suspended and
 * expired hosting, bot challenges (`unknown`) and persistent HTTP errors. Plain data: the
 * generator picks a template id per domain.
 * @module
 */
import type { Lang } from "./world_names.ts";
import type { PageContext, PageDef, Picker } from "./world_types.ts";

export { LIVE_PAGES, REDIRECT_PAGES } from "./world_pages_live.ts";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const doc = (title: string, body: string, headExtra = "", lang = "en") =>
  `<!DOCTYPE html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${
    esc(title)
  }</title>\n<meta name="viewport" content="width=device-width, initial-scale=1">${headExtra}` +
  `</head>\n<body>\n${body}\n</body></html>\n`;

// ---- parked -----------------------------------------------------------------------------

const RELATED: Record<Lang, [string, string]> = {
  en: ["Related Searches", "Sponsored Listings"],
  de: ["Ähnliche Suchbegriffe", "Gesponserte Links"],
  fr: ["Recherches associées", "Liens commerciaux"],
  es: ["Búsquedas relacionadas", "Enlaces patrocinados"],
  nl: ["Gerelateerde zoekopdrachten", "Gesponsorde links"],
  pt: ["Pesquisas relacionadas", "Links patrocinados"],
};

const DISCLAIMER: Record<Lang, string> = {
  en: "The Sponsored Listings displayed above are served automatically by a third party. " +
    "Neither the service provider nor the domain owner maintain any relationship with the advertisers.",
  de: "Die oben angezeigten gesponserten Links werden automatisch von einem Drittanbieter " +
    "bereitgestellt. Weder der Dienstanbieter noch der Domaininhaber stehen in Verbindung mit den Werbetreibenden.",
  fr: "Les liens commerciaux ci-dessus sont fournis automatiquement par un tiers. Ni le " +
    "prestataire ni le propriétaire du domaine n'ont de relation avec les annonceurs.",
  es: "Los enlaces patrocinados mostrados arriba los proporciona automáticamente un tercero. " +
    "Ni el proveedor ni el titular del dominio tienen relación con los anunciantes.",
  nl: "De bovenstaande gesponsorde links worden automatisch door een derde partij geleverd. " +
    "De aanbieder noch de domeineigenaar heeft een relatie met de adverteerders.",
  pt: "Os links patrocinados acima são fornecidos automaticamente por terceiros. Nem o " +
    "fornecedor nem o titular do domínio têm relação com os anunciantes.",
};

function listing(c: PageContext, p: Picker): string {
  const [related, sponsored] = RELATED[c.lang];
  const words = [...c.trade.services[c.lang], c.trade.names[c.lang], c.city, "Online", "Angebote"];
  const links = Array.from({ length: p.int(5, 9) }, () => p.pick(words))
    .map((w) =>
      `<li><a href="/?ts=${p.int(1000, 9999)}&kw=${encodeURIComponent(w)}">${esc(w)}</a></li>`
    )
    .join("\n");
  return doc(
    c.domain,
    `<div class="header"><h1>${esc(c.domain)}</h1></div>\n<div class="ads"><h2>${related}</h2>` +
      `<ul class="${sponsored.toLowerCase().replace(/\W+/g, "-")}">\n${links}\n</ul></div>\n` +
      `<p class="disclaimer">${DISCLAIMER[c.lang]}</p>\n<footer>` +
      `<a href="/privacy">Privacy Policy</a> · © ${esc(c.domain)}</footer>`,
    "",
    c.lang,
  );
}

const PARKED_TEXT: Record<Lang, string[]> = {
  en: ["This domain is parked free of charge.", "This web page is parked for the owner."],
  de: ["Diese Domain wurde kostenlos geparkt.", "Diese Webseite wird für den Inhaber geparkt."],
  fr: ["Ce domaine est parqué gratuitement.", "Cette page est parquée pour le titulaire."],
  es: ["Este dominio está aparcado de forma gratuita.", "Página aparcada para su titular."],
  nl: ["Dit domein is gratis geparkeerd.", "Deze pagina is geparkeerd voor de eigenaar."],
  pt: ["Este domínio está estacionado gratuitamente.", "Página estacionada para o titular."],
};

/** Parked pages by template id. */
export const PARKED_PAGES: Record<string, PageDef> = {
  ppc_listing: { html: listing, catchAll: true },
  parked_notice: {
    html: (c, p) =>
      listing(c, p).replace(
        "</h1></div>",
        `</h1><p class="parked">${p.pick(PARKED_TEXT[c.lang])}</p></div>`,
      ),
    catchAll: true,
  },
  js_lander: {
    html: (c) =>
      `<!DOCTYPE html><html><head><title>${esc(c.domain)}</title>` +
      `<script>window.location.href="/lander";</script></head><body></body></html>\n`,
    paths: { "/lander": listing },
  },
  js_park: {
    html: (c, p) => {
      const blob = btoa(JSON.stringify({ d: c.host, t: p.int(100, 999), lang: c.lang }));
      return `<!doctype html><html data-adblockkey="MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAK${
        p.int(1000, 9999)
      }"><head><meta charset="utf-8"><title>${
        esc(c.domain)
      }</title><script type="text/javascript" src="/js/parking.2.${
        p.int(60, 99)
      }.js"></script></head>` +
        `<body><div id="target" style="opacity: 0"></div>` +
        `<script>window.park = "${blob}";</script></body></html>\n`;
    },
    catchAll: true,
  },
};

// ---- for sale ---------------------------------------------------------------------------

const SALE: Record<Lang, { title: (d: string) => string; offer: string; text: string }> = {
  en: {
    title: (d) => `${d} is for sale!`,
    offer: "Make an offer",
    text: "Get this premium domain today. Secure payment via escrow, fast transfer.",
  },
  de: {
    title: (d) => `Diese Domain steht zum Verkauf: ${d}`,
    offer: "Jetzt Preis vorschlagen",
    text: "Sichern Sie sich diese Domain. Sichere Abwicklung über Treuhandservice.",
  },
  fr: {
    title: (d) => `Ce nom de domaine est à vendre : ${d}`,
    offer: "Faire une offre",
    text: "Achetez ce domaine dès aujourd'hui. Paiement sécurisé par séquestre.",
  },
  es: {
    title: (d) => `Este dominio está en venta: ${d}`,
    offer: "Hacer una oferta",
    text: "Consiga este dominio hoy. Pago seguro mediante depósito de garantía.",
  },
  nl: {
    title: (d) => `Dit domein is te koop: ${d}`,
    offer: "Doe een bod",
    text: "Koop deze domeinnaam vandaag nog. Veilige betaling via escrow.",
  },
  pt: {
    title: (d) => `Este domínio está à venda: ${d}`,
    offer: "Fazer uma oferta",
    text: "Adquira este domínio hoje. Pagamento seguro por custódia.",
  },
};

function salePage(c: PageContext, p: Picker): string {
  const s = SALE[c.lang];
  const price = p.chance(0.6)
    ? `<p class="price">${p.pick(["€", "$", "£"])}${p.int(5, 95)}99</p>`
    : "";
  return doc(
    s.title(c.domain),
    `<h1>${esc(s.title(c.domain))}</h1>\n${price}<p>${s.text}</p>\n` +
      `<form action="/offer" method="post"><input name="email" type="email"><input name="amount">` +
      `<button>${s.offer}</button></form>`,
    "",
    c.lang,
  );
}

/** For-sale pages by template id (marketplace landings are served on marketplace hosts). */
export const SALE_PAGES: Record<string, PageDef> = {
  sale_page: { html: salePage, catchAll: true },
  sale_contact: {
    html: (c) =>
      doc(
        c.domain,
        `<h2>${esc(c.domain)}</h2><p>This domain may be for sale. Interested? Contact the owner: ` +
          `<a href="mailto:domains@${c.host}">domains@${esc(c.host)}</a></p>`,
      ),
    catchAll: true,
  },
  price_tag: {
    html: (c, p) =>
      doc(
        `${c.domain} is available for purchase`,
        `<h1>${esc(c.domain)}</h1><p>This domain name is available for purchase.</p>` +
          `<p><strong>Buy now: $${p.int(1, 9)},${p.int(100, 999)}</strong> or pay $${
            p.int(40, 199)
          }.00/mo for 24 months</p><a class="btn" href="/checkout">Buy this domain</a>`,
      ),
    catchAll: true,
  },
};

/** The landing page of a marketplace host for the domain in the request URL. */
export function marketplacePage(domain: string, market: string): string {
  return doc(
    `${domain} is for sale | ${market}`,
    `<h1>${esc(domain)} is for sale</h1><p>The owner of ${esc(domain)} has listed it for sale ` +
      `on ${esc(market)}. Buy it now or make an offer.</p>` +
      `<ul><li>Buyer protection program</li><li>Fast &amp; easy transfers</li>` +
      `<li>Hassle free payments</li></ul><button>Buy now</button><button>Make offer</button>`,
  );
}

export { OTHER_PAGES } from "./world_pages_other.ts";

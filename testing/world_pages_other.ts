/**
 * Page templates for placeholders (coming soon, under construction, default server pages,
 * registrar and unclaimed platform pages), suspended or expired hosting, bot challenges and
 * persistent HTTP errors.
 * @module
 */
import type { Lang } from "./world_names.ts";
import type { PageContext, PageDef } from "./world_types.ts";

const esc = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

const doc = (title: string, body: string, headExtra = "", lang = "en") =>
  `<!DOCTYPE html>\n<html lang="${lang}"><head><meta charset="utf-8"><title>${
    esc(title)
  }</title>${headExtra}</head>\n<body>\n${body}\n</body></html>\n`;

const SOON: Record<Lang, [string, string][]> = {
  en: [
    ["Coming soon", "We're working hard on our new website. Stay tuned!"],
    ["Launching soon", "Something new is on its way. Check back shortly."],
  ],
  de: [
    ["Demnächst verfügbar", "Hier entsteht in Kürze unsere neue Website."],
    [
      "Bald online",
      "Wir arbeiten an unserem neuen Internetauftritt. Schauen Sie bald wieder vorbei!",
    ],
  ],
  fr: [["Bientôt disponible", "Notre nouveau site arrive très prochainement."]],
  es: [["Próximamente", "Estamos preparando nuestra nueva página web."]],
  nl: [["Binnenkort online", "Hier komt binnenkort onze nieuwe website."]],
  pt: [["Em breve", "O nosso novo site estará disponível em breve."]],
};

const BUILD: Record<Lang, [string, string][]> = {
  en: [["Under construction", "This website is under construction. Please visit us again soon."]],
  de: [["Baustelle", "Diese Website befindet sich im Aufbau."], [
    "Wartungsarbeiten",
    "Hier entsteht eine neue Internetpräsenz.",
  ]],
  fr: [["Site en construction", "Ce site est en cours de construction."]],
  es: [["Sitio en construcción", "Esta página web está en construcción."]],
  nl: [["Website in aanbouw", "Deze website is in aanbouw."]],
  pt: [["Site em construção", "Este site encontra-se em construção."]],
};

const REGISTRAR: Record<Lang, (d: string, b: string) => string> = {
  en: (d, b) => `${d} was registered at ${b}. The owner has not put a website online yet.`,
  de: (d, b) =>
    `Die Domain ${d} wurde bei ${b} registriert. Hier ist noch keine Website hinterlegt.`,
  fr: (d, b) => `Le domaine ${d} a été enregistré chez ${b}. Aucun site n'est encore en ligne.`,
  es: (d, b) => `El dominio ${d} ha sido registrado en ${b}. Todavía no hay una web publicada.`,
  nl: (d, b) => `Het domein ${d} is geregistreerd bij ${b}. Er staat nog geen website online.`,
  pt: (d, b) => `O domínio ${d} foi registado na ${b}. Ainda não existe um site publicado.`,
};

const EXPIRED: Record<Lang, [string, string]> = {
  en: ["Hosting expired", "The hosting package for this website has expired."],
  de: ["Webhosting abgelaufen", "Das Hosting-Paket dieser Website ist abgelaufen."],
  fr: ["Hébergement expiré", "L'hébergement de ce site a expiré."],
  es: ["Alojamiento caducado", "El plan de alojamiento de esta web ha caducado."],
  nl: ["Hosting verlopen", "Het hostingpakket van deze website is verlopen."],
  pt: ["Alojamento expirado", "O plano de alojamento deste site expirou."],
};

const DOMAIN_EXPIRED: Record<Lang, (d: string) => string> = {
  en: (d) => `The domain ${d} has expired and is pending renewal or deletion.`,
  de: (d) => `Die Domain ${d} ist abgelaufen und wartet auf Verlängerung oder Löschung.`,
  fr: (d) => `Le domaine ${d} a expiré et est en attente de renouvellement ou de suppression.`,
  es: (d) => `El dominio ${d} ha caducado y está pendiente de renovación o eliminación.`,
  nl: (d) => `Het domein ${d} is verlopen en wacht op verlenging of verwijdering.`,
  pt: (d) => `O domínio ${d} expirou e aguarda renovação ou eliminação.`,
};

const nginx = (status: number, text: string): PageDef => ({
  status,
  headers: { server: "nginx" },
  html: () =>
    `<html>\r\n<head><title>${status} ${text}</title></head>\r\n<body>\r\n<center><h1>${status} ${text}` +
    `</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n`,
  catchAll: true,
});

/** Placeholder, suspended, unknown and http_error pages by template id. */
export const OTHER_PAGES: Record<string, PageDef> = {
  // ---- placeholder
  coming_soon: {
    html: (c, p) => {
      const [t, s] = p.pick(SOON[c.lang]);
      const who = p.chance(0.5) ? `<h2>${esc(c.name)}</h2>` : "";
      return doc(
        `${t} | ${c.domain}`,
        `<div class="center"><h1>${t}</h1>${who}<p>${s}</p>` +
          `<div id="countdown" data-launch="2026-0${p.int(1, 9)}-01"></div></div>`,
        "",
        c.lang,
      );
    },
    catchAll: true,
  },
  under_construction: {
    html: (c, p) => {
      const [t, s] = p.pick(BUILD[c.lang]);
      return doc(t, `<img src="/construction.gif" alt=""><h1>${t}</h1><p>${s}</p>`, "", c.lang);
    },
    catchAll: true,
  },
  nginx_default: {
    headers: { server: "nginx/1.24.0 (Ubuntu)" },
    html: () =>
      doc(
        "Welcome to nginx!",
        "<h1>Welcome to nginx!</h1>\n<p>If you see this page, the nginx web server is successfully " +
          "installed and working. Further configuration is required.</p>\n<p>For online " +
          'documentation and support please refer to <a href="http://nginx.org/">nginx.org</a>.' +
          "</p>\n<p><em>Thank you for using nginx.</em></p>",
      ),
    catchAll: true,
  },
  apache_default: {
    headers: { server: "Apache/2.4.58 (Ubuntu)" },
    html: () =>
      doc(
        "Apache2 Ubuntu Default Page: It works",
        '<div class="main_page"><div class="page_header"><span>Apache2 Default Page</span>' +
          "<h1>It works!</h1></div><p>This is the default welcome page used to test the correct " +
          "operation of the Apache2 server after installation on Ubuntu systems. If you can read " +
          "this page, it means that the Apache HTTP server installed at this site is working " +
          "properly. You should <b>replace this file</b> (located at <tt>/var/www/html/index.html" +
          "</tt>) before continuing to operate your HTTP server.</p></div>",
      ),
    catchAll: true,
  },
  iis_default: {
    headers: { server: "Microsoft-IIS/10.0", "x-powered-by": "ASP.NET" },
    html: () =>
      doc(
        "IIS Windows Server",
        '<div id="container"><a href="https://go.microsoft.com/fwlink/?linkid=66138">' +
          '<img src="iisstart.png" alt="IIS" width="960" height="600" /></a></div>',
      ),
  },
  cpanel_default: {
    headers: { server: "Apache" },
    html: (c) =>
      doc(
        "Default Web Site Page",
        `<h1>${esc(c.host)}</h1><h2>Default Web Site Page</h2><p>If you are the owner of this ` +
          "website, upload your content to the public_html folder to replace this page.</p>" +
          '<p>Powered by <a href="https://cpanel.net">cPanel</a></p>' +
          '<link rel="canonical" href="/cgi-sys/defaultwebpage.cgi">',
      ),
    catchAll: true,
  },
  plesk_default: {
    headers: { server: "Apache", "x-powered-by": "PleskLin" },
    html: (c) =>
      doc(
        "Domain Default page",
        `<h1>Domain Default page</h1><p>The domain ${esc(c.host)} has been created in Plesk. ` +
          "This page was generated automatically. To replace it, upload your site into the " +
          "httpdocs directory.</p><footer>Plesk Obsidian</footer>",
      ),
    catchAll: true,
  },
  registrar_placeholder: {
    html: (c) =>
      doc(
        c.domain,
        `<header>${esc(c.brand ?? "Registrar")}</header><h1>${esc(c.domain)}</h1><p>${
          esc(REGISTRAR[c.lang](c.domain, c.brand ?? "Registrar"))
        }</p><p><a href="/login">Login</a></p>`,
        "",
        c.lang,
      ),
    catchAll: true,
  },
  index_of: {
    html: () =>
      '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN">\n<html><head><title>Index of /' +
      "</title></head><body><h1>Index of /</h1><table><tr><th>Name</th><th>Last modified</th>" +
      '<th>Size</th></tr><tr><th colspan="3"><hr></th></tr></table><address>Apache Server ' +
      "Port 80</address></body></html>\n",
  },
  empty: { html: () => "" },
  wix_unclaimed: {
    headers: { server: "Pepyaka" },
    html: () =>
      doc(
        "Connect this domain",
        "<h1>Looks like this domain isn't connected to a website yet!</h1><p>If you own this " +
          "domain, log in to connect it to a site.</p>",
      ),
    catchAll: true,
  },
  shopify_unclaimed: {
    status: 404,
    html: () =>
      doc(
        "Create an Ecommerce Website and Sell Online!",
        "<h1>Sorry, this shop is currently unavailable.</h1><p>Are you the store owner? " +
          '<a href="/admin">Log in here</a>.</p>',
      ),
    catchAll: true,
  },
  github_unclaimed: {
    status: 404,
    headers: { server: "GitHub.com" },
    html: () =>
      doc(
        "Site not found · GitHub Pages",
        "<h1>404</h1><p><strong>There isn't a GitHub Pages site here.</strong></p><p>If you're " +
          "trying to publish one, read the full documentation to learn how to set up GitHub " +
          "Pages for your repository, organization, or user account.</p>",
      ),
    catchAll: true,
  },
  heroku_unclaimed: {
    status: 404,
    html: () =>
      doc(
        "Heroku | No such app",
        '<iframe src="//www.herokucdn.com/error-pages/no-such-app.html"></iframe>' +
          "<p>There's nothing here, yet. No such app.</p>",
      ),
    catchAll: true,
  },
  // ---- suspended
  account_suspended: {
    headers: { server: "Apache" },
    html: () =>
      doc(
        "Account Suspended",
        "<h1>Account Suspended</h1><p>This Account has been suspended.</p><p>Contact your " +
          "hosting provider for more information.</p>",
        '<link rel="canonical" href="/cgi-sys/suspendedpage.cgi">',
      ),
    paths: {},
    catchAll: true,
  },
  hosting_expired: {
    html: (c) => {
      const [t, s] = EXPIRED[c.lang];
      return doc(t, `<h1>${t}</h1><p>${s}</p>`, "", c.lang);
    },
    catchAll: true,
  },
  domain_expired: {
    html: (c) =>
      doc(
        c.domain,
        `<h1>${esc(c.domain)}</h1><p>${esc(DOMAIN_EXPIRED[c.lang](c.domain))}</p><p>${
          esc(c.brand ?? "")
        }</p>`,
        "",
        c.lang,
      ),
    catchAll: true,
  },
  site_suspended_403: {
    status: 403,
    html: () =>
      doc(
        "Website suspended",
        "<h1>This website has been suspended</h1><p>The hosting account was suspended for " +
          "non-payment or a violation of the terms of service.</p>",
      ),
    catchAll: true,
  },
  // ---- unknown (bot challenges: the real site is hidden)
  cf_challenge: {
    status: 403,
    headers: {
      server: "cloudflare",
      "cf-mitigated": "challenge",
      "cf-ray": "8f0e1d2c3b4a5968-FRA",
    },
    html: () =>
      doc(
        "Just a moment...",
        '<div class="main-wrapper"><h1>Just a moment...</h1><p>Enable JavaScript and cookies to ' +
          'continue</p></div><script src="/cdn-cgi/challenge-platform/h/g/orchestrate/chl_page/v1' +
          '?ray=8f0e1d2c3b4a5968"></script>',
        '<meta name="robots" content="noindex,nofollow">',
      ),
    catchAll: true,
  },
  cf_challenge_503: {
    status: 503,
    headers: { server: "cloudflare", "cf-ray": "7d6c5b4a39281706-LHR" },
    html: () =>
      doc(
        "Just a moment...",
        "<h1>Checking if the site connection is secure</h1><p>This process is automatic. Your " +
          "browser will redirect to your requested content shortly.</p>" +
          '<script src="/cdn-cgi/challenge-platform/h/b/scripts/jsd/main.js"></script>',
      ),
    catchAll: true,
  },
  cf_blocked: {
    status: 403,
    headers: { server: "cloudflare", "cf-ray": "6c5b4a3928170605-CDG" },
    html: () =>
      doc(
        "Attention Required! | Cloudflare",
        "<h1>Sorry, you have been blocked</h1><h2>You are unable to access this website</h2>" +
          "<p>This website is using a security service to protect itself from online attacks.</p>" +
          "<p>Cloudflare Ray ID: <strong>6c5b4a3928170605</strong></p>",
      ),
    catchAll: true,
  },
  ddos_guard: {
    status: 403,
    headers: { server: "ddos-guard" },
    html: () =>
      doc(
        "DDoS-Guard",
        "<h1>Checking your browser before accessing the website.</h1><p>This process is " +
          'automatic.</p><script src="/.well-known/ddos-guard/check?context=free_splash"></script>',
      ),
    catchAll: true,
  },
  sucuri_block: {
    status: 403,
    headers: { server: "Sucuri/Cloudproxy", "x-sucuri-id": "18012" },
    html: () =>
      doc(
        "Sucuri WebSite Firewall - Access Denied",
        "<h1>Access Denied - Sucuri Website Firewall</h1><p>Block reason: Access from your " +
          "location has been disabled by the website owner.</p>",
      ),
    catchAll: true,
  },
  incapsula: {
    status: 200,
    headers: { "x-cdn": "Incapsula" },
    html: () =>
      '<html style="height:100%"><head><meta name="ROBOTS" content="NOINDEX, NOFOLLOW"></head>' +
      '<body style="margin:0px;height:100%"><iframe id="main-iframe" src="/_Incapsula_Resource?' +
      'CWUDNSAI=27&incident_id=0-123456789" frameborder=0 width="100%" height="100%">Request ' +
      "unsuccessful. Incapsula incident ID: 0-123456789</iframe></body></html>\n",
    catchAll: true,
  },
  // ---- http_error (persistent)
  apache_500: {
    status: 500,
    headers: { server: "Apache" },
    html: () =>
      '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head><title>500 Internal ' +
      "Server Error</title></head><body><h1>Internal Server Error</h1><p>The server " +
      "encountered an internal error or misconfiguration and was unable to complete your " +
      "request.</p></body></html>\n",
    catchAll: true,
  },
  apache_403: {
    status: 403,
    headers: { server: "Apache" },
    html: () =>
      '<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head><title>403 Forbidden' +
      "</title></head><body><h1>Forbidden</h1><p>You don't have permission to access this " +
      "resource.</p></body></html>\n",
    catchAll: true,
  },
  nginx_502: nginx(502, "Bad Gateway"),
  nginx_503: nginx(503, "Service Temporarily Unavailable"),
  nginx_404: nginx(404, "Not Found"),
  wordpress_db: {
    status: 500,
    html: () => doc("Database Error", "<h1>Error establishing a database connection</h1>"),
    catchAll: true,
  },
  cf_521: {
    status: 521,
    headers: { server: "cloudflare" },
    html: (c: PageContext) =>
      doc(
        `${c.host} | 521: Web server is down`,
        `<h1>Web server is down <span>Error code 521</span></h1><p>The web server is not ` +
          "returning a connection. As a result, the web page is not displaying.</p>",
      ),
    catchAll: true,
  },
};

/**
 * Pages from three review rounds of the classifier (2026-11-29): short working business pages,
 * short and long no-website notices in many languages, written to look like the real thing. The
 * test beside (`review_pages_test.ts`) keeps every verdict that was right when they were written.
 * `expect`: a website status, or `live`/`lead` for the short set.
 * @module
 */

/** One reviewed page. */
export interface ReviewPage {
  id: string;
  domain: string;
  /** A status (`placeholder`, `suspended`...), or `live` / `lead`. */
  expect: string;
  html: string;
  status?: number;
  note?: string;
}

const pg = (lang: string, title: string, body: string) =>
  `<!doctype html><html lang="${lang}"><head><meta charset="utf-8"><title>${title}</title></head><body>${body}</body></html>`;

/** No-website notices (and a few live controls), each with the status it should get. */
export const NOTICE_PAGES: ReviewPage[] = [
  // ---- placeholders with the business's own details
  {
    id: "de_mueller_bau",
    domain: "mueller-bau.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Müller Bau GmbH</title></head><body>
<div class="wrap"><img src="logo.png" alt="Müller Bau"><h1>Müller Bau GmbH</h1>
<h2>Unsere neue Website ist bald online.</h2>
<p>Bis dahin erreichen Sie uns wie gewohnt telefonisch oder per E-Mail.</p>
<p>Müller Bau GmbH<br>Musterstraße 1<br>10115 Berlin</p>
<p>Tel. 030 1234567<br>Fax 030 1234568<br>E-Mail: info@mueller-bau.de</p>
<p><a href="impressum.html">Impressum</a> | <a href="datenschutz.html">Datenschutz</a></p></div></body></html>`,
  },
  {
    id: "de_baeckerei_wartung",
    domain: "baeckerei-schmidt.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>Bäckerei Schmidt – Wir arbeiten an unserer neuen Webseite</title></head><body>
<h1>Wir arbeiten an unserer neuen Webseite</h1><p>Liebe Kundinnen und Kunden, unsere Internetseite wird gerade überarbeitet. Schauen Sie bald wieder vorbei!</p>
<p>Bäckerei Schmidt · Hauptstraße 12 · 80331 München · Telefon: 089 765432 · Öffnungszeiten: Mo–Fr 6:00–18:00, Sa 6:00–12:00</p>
<a href="/impressum">Impressum</a></body></html>`,
  },
  {
    id: "fr_plomberie",
    domain: "plomberie-martin.fr",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="fr"><head><title>Plomberie Martin - Site en cours de construction</title></head><body>
<h1>Plomberie Martin</h1><h2>Notre site est en cours de construction</h2><p>Nous travaillons actuellement sur notre nouveau site internet. En attendant, n'hésitez pas à nous contacter :</p>
<p>12 rue de la République, 69002 Lyon<br>Tél : 04 78 12 34 56<br>contact@plomberie-martin.fr</p><p><a href="/mentions-legales">Mentions légales</a></p></body></html>`,
  },
  {
    id: "es_taller",
    domain: "tallergarcia.es",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="es"><head><title>Taller García | Web en construcción</title></head><body>
<h1>Estamos trabajando en nuestra nueva web</h1><p>Muy pronto podrás conocer todos nuestros servicios de mecánica, chapa y pintura.</p>
<p>Taller García S.L. · Calle Mayor 23, 28013 Madrid · Tel. 912 345 678 · info@tallergarcia.es</p><p>Horario: lunes a viernes de 9:00 a 14:00 y de 16:00 a 20:00</p>
<p><a href="/aviso-legal">Aviso legal</a> · <a href="/privacidad">Política de privacidad</a></p></body></html>`,
  },
  {
    id: "nl_kapper",
    domain: "kapsalonlisa.nl",
    expect: "placeholder",
    html: `<!DOCTYPE html><html lang="nl"><head><title>Kapsalon Lisa</title></head><body>
<h1>Onze nieuwe website is binnenkort online!</h1><p>Wij zijn druk bezig met onze nieuwe website. Voor afspraken kunt u ons bellen of mailen.</p>
<p>Kapsalon Lisa<br>Dorpsstraat 45<br>1234 AB Utrecht<br>Tel: 030-2345678<br>info@kapsalonlisa.nl</p></body></html>`,
  },
  {
    id: "it_ristorante",
    domain: "trattoriadamario.it",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="it"><head><title>Trattoria da Mario - Sito in costruzione</title></head><body>
<h1>Trattoria da Mario</h1><p>Il nostro nuovo sito sarà online a breve.</p><p>Via Roma 10, 00184 Roma — Tel. 06 1234 5678 — info@trattoriadamario.it</p><p>Aperti tutti i giorni dalle 12:00 alle 15:00 e dalle 19:00 alle 23:00</p><p>P.IVA 01234567890</p></body></html>`,
  },
  {
    id: "pl_firma",
    domain: "kowalski-transport.pl",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="pl"><head><title>Kowalski Transport – strona w budowie</title></head><body>
<h1>Strona w przygotowaniu</h1><p>Nasza nowa strona internetowa już wkrótce będzie dostępna. Zapraszamy do kontaktu telefonicznego.</p>
<p>Kowalski Transport Sp. z o.o.<br>ul. Długa 5, 00-238 Warszawa<br>tel. +48 22 123 45 67<br>biuro@kowalski-transport.pl</p></body></html>`,
  },
  {
    id: "pt_loja",
    domain: "padariacentral.pt",
    expect: "placeholder",
    html: `<!DOCTYPE html><html lang="pt"><head><title>Padaria Central</title></head><body>
<h1>Site em manutenção</h1><p>Estamos a preparar um novo site para si. Volte em breve!</p><p>Rua Augusta 100, 1100-053 Lisboa · Telefone: 21 234 5678 · geral@padariacentral.pt</p></body></html>`,
  },
  {
    id: "en_coming_soon_full",
    domain: "brightsmiledental.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Bright Smile Dental</title><link rel="stylesheet" href="style.css"></head><body>
<div class="hero"><img src="logo.svg" alt="Bright Smile Dental"><h1>Something exciting is coming!</h1>
<p>We're building a brand-new website to serve you better. Sign up to be the first to know when we launch.</p>
<div id="countdown"><span>12</span> Days <span>08</span> Hours <span>45</span> Minutes <span>10</span> Seconds</div>
<form action="/subscribe" method="post"><input type="email" name="email" placeholder="Enter your email address"><button>Notify me</button></form>
<p>Questions? Call us at (512) 555-0187 or email hello@brightsmiledental.com</p>
<ul class="social"><li><a href="https://facebook.com/brightsmile">Facebook</a></li><li><a href="https://instagram.com/brightsmile">Instagram</a></li><li><a href="https://twitter.com/brightsmile">Twitter</a></li></ul>
<p>&copy; 2024 Bright Smile Dental. All rights reserved. <a href="/privacy">Privacy Policy</a></p></div></body></html>`,
  },
  {
    id: "en_launching_newsletter",
    domain: "oakandiron.co.uk",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Oak &amp; Iron Furniture — Launching Soon</title></head><body>
<h1>We're launching soon</h1><p>Handmade oak furniture from our workshop in the Cotswolds. Our online store opens this spring.</p>
<form><label>Get notified</label><input type="email" placeholder="Your email"><button type="submit">Subscribe</button></form>
<p>Oak &amp; Iron Ltd, Unit 4 Mill Lane, Stow-on-the-Wold GL54 1AB · 01451 830123</p><p><a href="https://instagram.com/oakandiron">Instagram</a> · <a href="https://pinterest.com/oakandiron">Pinterest</a></p></body></html>`,
  },
  {
    id: "en_uc_gif",
    domain: "joesplumbingtx.com",
    expect: "placeholder",
    html:
      `<html><head><title>Joe's Plumbing</title></head><body bgcolor="#ffffff"><center><img src="under_construction.gif"><br><font size="5">This site is under construction. Please check back soon!</font><br>Call Joe: 214-555-0198</center></body></html>`,
  },
  {
    id: "sv_kommer",
    domain: "snickeriab.se",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="sv"><head><title>Snickeri AB</title></head><body><h1>Vår nya hemsida kommer snart</h1><p>Kontakta oss under tiden: 08-123 456 78, info@snickeriab.se, Storgatan 4, 111 22 Stockholm</p></body></html>`,
  },
  {
    id: "tr_yakinda",
    domain: "ozturkinsaat.com.tr",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="tr"><head><title>Öztürk İnşaat</title></head><body><h1>Web sitemiz yapım aşamasındadır</h1><p>Çok yakında hizmetinizdeyiz.</p><p>Adres: Atatürk Cad. No:12, Kadıköy / İstanbul · Tel: 0216 123 45 67 · info@ozturkinsaat.com.tr</p></body></html>`,
  },
  // ---- registrar / hoster defaults
  {
    id: "de_ionos",
    domain: "schreinerei-weber.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>Hier entsteht eine neue Internetpräsenz</title></head><body>
<div class="header"><img src="https://www.ionos.de/img/ionos-logo.svg" alt="IONOS"></div>
<div class="content"><h1>Hier entsteht eine neue Internetpräsenz</h1><p>Diese Domain wurde soeben registriert. Der Inhaber hat noch keine Inhalte hinterlegt.</p>
<h2>Sie möchten auch eine eigene Website?</h2><p>Mit IONOS erstellen Sie Ihre Website ganz einfach selbst – mit dem Website-Baukasten MyWebsite. Domain, E-Mail-Adresse und persönliche Beratung inklusive.</p>
<a href="https://www.ionos.de/websites/homepage-erstellen">Jetzt Website erstellen</a>
<h3>Domain-Check</h3><form action="https://www.ionos.de/domains/domain-check"><input name="domain" placeholder="Wunschdomain eingeben"><button>Prüfen</button></form></div>
<div class="footer">IONOS SE, Elgendorfer Str. 57, 56410 Montabaur · Telefon: 0721 170 5522 · <a href="https://www.ionos.de/impressum">Impressum</a> · <a href="https://www.ionos.de/terms-gtc/datenschutzerklaerung/">Datenschutz</a> · <a href="https://www.ionos.de/hilfe/">Hilfe</a></div></body></html>`,
  },
  {
    id: "de_strato",
    domain: "physio-lange.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>Diese Domain ist bereits vergeben - STRATO</title></head><body>
<header><a href="https://www.strato.de"><img src="https://www.strato.de/logo.svg" alt="STRATO"></a></header>
<main><h1>Diese Domain wurde bei STRATO registriert</h1><p>Der Inhaber dieser Domain hat noch keine Inhalte veröffentlicht.</p>
<h2>Ihre eigene Domain bei STRATO</h2><p>Sichern Sie sich jetzt Ihre Wunschdomain – schon ab 1 € im ersten Jahr. Inklusive E-Mail-Postfach und SSL-Zertifikat.</p>
<form><input placeholder="Wunschdomain"><button>Domain prüfen</button></form>
<ul><li>Homepage-Baukasten</li><li>Webhosting</li><li>WordPress Hosting</li><li>Online-Shop</li></ul></main>
<footer>STRATO GmbH · Otto-Ostrowski-Straße 7 · 10249 Berlin · <a href="https://www.strato.de/impressum/">Impressum</a> · <a href="https://www.strato.de/datenschutz/">Datenschutz</a> · Kundenservice: 030 300 146 0</footer></body></html>`,
  },
  {
    id: "en_godaddy_future",
    domain: "sunsetroofingaz.com",
    expect: "placeholder",
    html: `<!DOCTYPE html><html><head><title>sunsetroofingaz.com - Coming Soon</title></head><body>
<div><img src="https://img1.wsimg.com/godaddy-logo.png" alt="GoDaddy"></div><h1>This Web page is parked for FREE, courtesy of GoDaddy.com.</h1></body></html>`,
  },
  {
    id: "en_godaddy_launching",
    domain: "greenleaflandscaping.com",
    expect: "placeholder",
    html: `<!DOCTYPE html><html lang="en-US"><head><title>Coming Soon</title></head><body>
<div class="container"><h1>greenleaflandscaping.com</h1><h2>Launching Soon</h2><p>This website is being built using GoDaddy Website Builder.</p><p>Powered by <a href="https://www.godaddy.com/websites/website-builder">GoDaddy Website Builder</a></p></div></body></html>`,
  },
  {
    id: "en_namecheap",
    domain: "riverbendcoffee.com",
    expect: "parked",
    html: `<!DOCTYPE html><html><head><title>riverbendcoffee.com</title></head><body>
<header><img src="https://www.namecheap.com/assets/img/nc-logo.svg" alt="Namecheap"></header>
<h1>riverbendcoffee.com</h1><p>This domain is registered at Namecheap. This domain was recently registered at Namecheap. Please check back later!</p>
<p>This domain is parked free of charge with Namecheap.com. Please contact the domain owner if you are interested.</p>
<footer><a href="https://www.namecheap.com/legal/">Legal</a> · <a href="https://www.namecheap.com/legal/general/privacy-policy/">Privacy Policy</a> · © 2024 Namecheap, Inc.</footer></body></html>`,
  },
  {
    id: "fr_ovh",
    domain: "boulangerie-dupont.fr",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>Félicitations ! Votre domaine a bien été créé chez OVHcloud !</title></head><body>
<header><img src="https://www.ovhcloud.com/logo.svg" alt="OVHcloud"></header>
<h1>Félicitations ! Votre domaine a bien été créé chez OVHcloud !</h1>
<h2>Votre domaine boulangerie-dupont.fr a bien été créé chez OVHcloud</h2>
<p>Vous pouvez dès à présent le gérer depuis votre espace client.</p>
<h3>Créez votre site</h3><p>Hébergement web, WordPress, création de site…</p>
<h3>Créez vos adresses e-mail</h3><p>Adresses e-mail à votre nom de domaine</p>
<footer>OVH SAS · 2 rue Kellermann · 59100 Roubaix · <a href="https://www.ovhcloud.com/fr/terms-and-conditions/">Conditions</a> · <a href="https://www.ovhcloud.com/fr/personal-data-protection/">Données personnelles</a></footer></body></html>`,
  },
  {
    id: "nl_transip",
    domain: "bakkerijjansen.nl",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="nl"><head><title>bakkerijjansen.nl - Deze domeinnaam is geregistreerd bij TransIP</title></head><body>
<h1>bakkerijjansen.nl</h1><p>Deze domeinnaam is geregistreerd bij TransIP. De eigenaar heeft nog geen website gekoppeld.</p><p>Ook een domeinnaam registreren? <a href="https://www.transip.nl/domeinnaam/">Bekijk de mogelijkheden</a></p>
<footer>TransIP B.V. · Schipholweg 9B · 2316 XB Leiden · <a href="https://www.transip.nl/legal-and-security/privacy-policy/">Privacy</a></footer></body></html>`,
  },
  {
    id: "es_dinahosting",
    domain: "ferreteriaperez.es",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="es"><head><title>Dominio registrado en Dinahosting</title></head><body>
<h1>Este dominio ha sido registrado en dinahosting</h1><p>El propietario todavía no ha publicado contenido en él.</p><p>¿Quieres tu propio dominio? Regístralo en <a href="https://dinahosting.com">dinahosting.com</a></p>
<footer>Dinahosting S.L. · Rúa das Salgueiriñas de Abaixo 11, 15705 Santiago de Compostela · Tel. 900 854 000 · <a href="https://dinahosting.com/legal">Aviso legal</a> · <a href="https://dinahosting.com/privacidad">Privacidad</a></footer></body></html>`,
  },
  {
    id: "it_aruba",
    domain: "pizzeriabella.it",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="it"><head><title>Aruba.it - Dominio registrato</title></head><body>
<h1>Questo dominio è stato registrato con Aruba.it</h1><p>Il sito è in fase di realizzazione.</p><p>Registra anche tu il tuo dominio su <a href="https://www.aruba.it">Aruba.it</a> — Hosting, PEC, Server</p>
<footer>Aruba S.p.A. - Via San Clemente, 53 - 24036 Ponte San Pietro (BG) - P.IVA 01573850516 - <a href="https://www.aruba.it/privacy">Privacy</a></footer></body></html>`,
  },
  {
    id: "pl_homepl",
    domain: "nowak-meble.pl",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="pl"><head><title>Domena zarejestrowana w home.pl</title></head><body>
<h1>Ta domena została zarejestrowana w home.pl</h1><p>Właściciel domeny nie opublikował jeszcze strony internetowej.</p><p>Chcesz mieć własną stronę? Sprawdź <a href="https://home.pl/kreator-stron">Kreator stron www</a></p>
<footer>home.pl S.A., ul. Zbożowa 4, 70-653 Szczecin · tel. 91 424 55 55 · <a href="https://home.pl/polityka-prywatnosci">Polityka prywatności</a></footer></body></html>`,
  },
  {
    id: "pt_ptisp",
    domain: "cafecentral.pt",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="pt"><head><title>Em breve</title></head><body><h1>cafecentral.pt</h1><h2>Brevemente online</h2><p>Este domínio foi registado através da PTisp.</p><p><a href="https://ptisp.pt">PTisp</a> · Alojamento web e registo de domínios</p></body></html>`,
  },
  // ---- server defaults
  {
    id: "cpanel_default",
    domain: "atlasmovers.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Default Web Site Page</title></head><body><div id="main"><h1>Great Success !</h1><h2>Apache is working on your cPanel® and WHM™ Server</h2><p>If you can see this page, then the people who manage this server have installed cPanel and WebHost Manager (WHM), which use the Apache Web Server software and the Apache Interface to OpenSSL, and have configured this server for use.</p><h3>If you are a member of the general public:</h3><p>The fact that you are seeing this page indicates that the website you just visited is either experiencing problems or is undergoing routine maintenance.</p><p>If you would like to let the administrators of this website know that you've seen this page instead of the page you expected, you should send them email. In general, mail sent to the name "webmaster" and directed to the website's domain should reach the appropriate person.</p><h3>If you are the website administrator:</h3><p>You may now add content to the webroot directory for your site.</p><p>Copyright © 2024 cPanel, L.L.C.</p></div></body></html>`,
  },
  {
    id: "plesk_default",
    domain: "kanzlei-hoffmann.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Domain Default page</title></head><body><div class="page-container"><h1>Domain Default page</h1><p>This page is generated by Plesk, the leading hosting automation software. You see this page because there is no Web site at this address.</p><p>You can do the following:</p><ul><li>Create domains and set up Web hosting using Plesk.</li></ul><p>For more information please refer to <a href="https://docs.plesk.com">Plesk Documentation</a>.</p><p>© 2024 Plesk International GmbH. All rights reserved.</p></div></body></html>`,
  },
  {
    id: "nginx_default",
    domain: "lakesideclinic.com",
    expect: "placeholder",
    html: `<!DOCTYPE html>
<html>
<head>
<title>Welcome to nginx!</title>
<style>
html { color-scheme: light dark; }
body { width: 35em; margin: 0 auto;
font-family: Tahoma, Verdana, Arial, sans-serif; }
</style>
</head>
<body>
<h1>Welcome to nginx!</h1>
<p>If you see this page, the nginx web server is successfully installed and
working. Further configuration is required.</p>

<p>For online documentation and support please refer to
<a href="http://nginx.org/">nginx.org</a>.<br/>
Commercial support is available at
<a href="http://nginx.com/">nginx.com</a>.</p>

<p><em>Thank you for using nginx.</em></p>
</body>
</html>`,
  },
  {
    id: "apache_ubuntu",
    domain: "westendautos.co.uk",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><meta http-equiv="Content-Type" content="text/html; charset=UTF-8" /><title>Apache2 Ubuntu Default Page: It works</title></head><body><div class="main_page"><div class="page_header floating_element"><img src="/icons/ubuntu-logo.png" alt="Ubuntu Logo" class="floating_element"/><span class="floating_element">Apache2 Ubuntu Default Page</span></div><div class="content_section floating_element"><div class="section_header section_header_red"><div id="about"></div>It works!</div><div class="content_section_text"><p>This is the default welcome page used to test the correct operation of the Apache2 server after installation on Ubuntu systems. It is based on the equivalent page on Debian, from which the Ubuntu Apache packaging is derived. If you can read this page, it means that the Apache HTTP server installed at this site is working properly. You should <b>replace this file</b> (located at <tt>/var/www/html/index.html</tt>) before continuing to operate your HTTP server.</p><p>If you are a normal user of this web site and don't know what this page is about, this probably means that the site is currently unavailable due to maintenance. If the problem persists, please contact the site's administrator.</p></div><div class="section_header"><div id="changes"></div>Configuration Overview</div><div class="content_section_text"><p>Ubuntu's Apache2 default configuration is different from the upstream default configuration, and split into several files optimized for interaction with Ubuntu tools. The configuration system is <b>fully documented in /usr/share/doc/apache2/README.Debian.gz</b>. Refer to this for the full documentation. Documentation for the web server itself can be found by accessing the <a href="/manual">manual</a> if the apache2-doc package was installed on this server.</p><p>The configuration layout for an Apache2 web server installation on Ubuntu systems is as follows:</p><pre>/etc/apache2/
|-- apache2.conf
|       \`--  ports.conf
|-- mods-enabled
|       |-- *.load
|       \`-- *.conf
|-- conf-enabled
|       \`-- *.conf
|-- sites-enabled
|       \`-- *.conf</pre></div></div></div></body></html>`,
  },
  {
    id: "iis_default",
    domain: "harrisaccounting.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd"><html xmlns="http://www.w3.org/1999/xhtml"><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1" /><title>IIS Windows Server</title><style type="text/css">body{color:#000000;background-color:#0072C6;margin:0;}</style></head><body><div id="container"><a href="http://go.microsoft.com/fwlink/?linkid=66138&amp;clcid=0x409"><img src="iisstart.png" alt="IIS" width="960" height="600" /></a></div></body></html>`,
  },
  {
    id: "litespeed_default",
    domain: "capecodkayak.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Web Server's Default Page</title></head><body><h1>Congratulations!</h1><p>This is the default web page for this server.</p><p>The web server software is running but no content has been added, yet.</p><p>Powered by LiteSpeed Web Server. LiteSpeed Technologies is not responsible for administration and contents of this web site!</p></body></html>`,
  },
  // ---- platform unclaimed
  {
    id: "wix_unpublished",
    domain: "yogastudioanna.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Wix.com - This site isn't published yet</title></head><body><div id="root"><img src="https://static.wixstatic.com/media/wix-logo.png" alt="WIX"><h1>Looks like this site isn't published yet.</h1><p>This site was designed with the <a href="https://www.wix.com">Wix.com</a> website builder. Create your website today.</p><a href="https://www.wix.com/lpviral/enviral?utm_campaign=vir_wixad_live">Start Now</a></div></body></html>`,
  },
  {
    id: "wix_not_connected",
    domain: "mariaspottery.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Wix.com</title></head><body><h1>Looks like this domain isn't connected to a website yet!</h1><p>If you own this domain, you can connect it to a Wix site.</p><a href="https://support.wix.com/en/article/connecting-a-domain-to-your-wix-site">Connect it now</a><p>Want to create your own website? <a href="https://www.wix.com">Start creating</a></p></body></html>`,
  },
  {
    id: "github_pages_404",
    domain: "nordicdesignlab.io",
    expect: "placeholder",
    status: 404,
    html: `<!DOCTYPE html>
<html>
  <head>
    <meta http-equiv="Content-type" content="text/html; charset=utf-8">
    <meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'">
    <title>Site not found &middot; GitHub Pages</title>
  </head>
  <body>
    <div class="container">
      <h1>404</h1>
      <p><strong>There isn't a GitHub Pages site here.</strong></p>
      <p>
        If you're trying to publish one,
        <a href="https://help.github.com/pages/">read the full documentation</a>
        to learn how to set up <strong>GitHub Pages</strong>
        for your repository, organization, or user account.
      </p>
      <div id="suggestions">
        <a href="https://githubstatus.com">GitHub Status</a> &mdash;
        <a href="https://twitter.com/githubstatus">@githubstatus</a>
      </div>
      <a href="/" class="logo logo-img-1x"><img width="32" height="32" title="" alt="" src="data:image/png;base64,iVBORw0KGgo"></a>
    </div>
  </body>
</html>`,
  },
  {
    id: "squarespace_expired",
    domain: "hollowoakcandles.com",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Website Expired</title></head><body><div class="content"><img src="https://static1.squarespace.com/static/ta/squarespace-logo.svg" alt="Squarespace"><h1>Website Expired</h1><p>The subscription for this website has expired. If you are the site owner, log in to renew your subscription.</p><a href="https://login.squarespace.com">Log In</a></div><footer>Powered by Squarespace</footer></body></html>`,
  },
  {
    id: "squarespace_unclaimed",
    domain: "bluepinetherapy.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Claim This Domain — Squarespace</title></head><body><h1>This domain is not connected to a website</h1><p>If you're the owner of this domain, you can connect it to your Squarespace website from the Domains panel.</p><a href="https://www.squarespace.com">Squarespace</a></body></html>`,
  },
  {
    id: "shopify_unavail",
    domain: "lunaswimwear.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Create an Ecommerce Website and Sell Online! Ecommerce Software by Shopify</title></head><body><h1>Sorry, this shop is currently unavailable.</h1><p>Only one step left! If you're the store owner, you can <a href="https://www.shopify.com/login">log in</a> to reactivate your store.</p></body></html>`,
  },
  {
    id: "heroku_nosuchapp",
    domain: "fleetlogix.com",
    expect: "placeholder",
    status: 404,
    html:
      `<!DOCTYPE html><html><head><meta name="viewport" content="width=device-width, initial-scale=1"><meta charset="utf-8"><title>Heroku | No such app</title></head><body><iframe src="//www.herokucdn.com/error-pages/no-such-app.html"></iframe></body></html>`,
  },
  // ---- parked / for sale
  {
    id: "parked_related_links",
    domain: "cityflorist.com",
    expect: "parked",
    html: `<!DOCTYPE html><html><head><title>cityflorist.com</title></head><body>
<div id="header"><h1>cityflorist.com</h1></div><div id="main"><h2>Related Links</h2><ul>
<li><a href="/?q=Flower+Delivery">Flower Delivery</a></li><li><a href="/?q=Send+Flowers+Online">Send Flowers Online</a></li><li><a href="/?q=Wedding+Bouquets">Wedding Bouquets</a></li><li><a href="/?q=Funeral+Flowers">Funeral Flowers</a></li><li><a href="/?q=Cheap+Roses">Cheap Roses</a></li><li><a href="/?q=Florist+Near+Me">Florist Near Me</a></li><li><a href="/?q=Birthday+Flowers">Birthday Flowers</a></li><li><a href="/?q=Same+Day+Flower+Delivery">Same Day Flower Delivery</a></li><li><a href="/?q=Orchids">Orchids</a></li><li><a href="/?q=Gift+Baskets">Gift Baskets</a></li></ul></div>
<div id="footer"><a href="/privacy">Privacy Policy</a> | 2024 Copyright. All Rights Reserved.<br>The Sponsored Listings displayed above are served automatically by a third party. Neither the service provider nor the domain owner maintain any relationship with the advertisers. In case of trademark issues please contact the domain owner directly (contact information can be found in whois).</div></body></html>`,
  },
  {
    id: "parked_sedo_de",
    domain: "autohaus-becker.de",
    expect: "parked",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>autohaus-becker.de</title></head><body><h1>autohaus-becker.de</h1><h2>Ähnliche Suchanfragen</h2><ul><li><a href="#">Gebrauchtwagen</a></li><li><a href="#">Autohaus</a></li><li><a href="#">Neuwagen kaufen</a></li><li><a href="#">Kfz Werkstatt</a></li><li><a href="#">Autoleasing</a></li></ul><p>Diese Webseite wurde vom Domaininhaber geparkt. <a href="https://sedo.com/de/about-us/datenschutz/">Datenschutzerklärung</a></p><p>Die gesponserten Links werden automatisch von Dritten bereitgestellt.</p></body></html>`,
  },
  {
    id: "parked_js_lander",
    domain: "vintagewheels.com",
    expect: "parked",
    html:
      `<!DOCTYPE html><html data-adblockkey="MFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBANDrp2lz7AOmADaN8tA50LsWcjLFyQFcb/P2Txc58oYOeILb3vBw7J6f4pamkAQVSQuqYsKx3YzdUHCvbVZvFUsCAwEAAQ==_XJ2" lang="en"><head><meta charset="utf-8"><title>vintagewheels.com</title><script src="https://www.google.com/adsense/domains/caf.js" type="text/javascript"></script></head><body><div id="target"></div><script>window.park = "eyJ1dWlkIjoiYjM5ZWQ1YzQ";</script><script src="/bvkhxHlqY.js"></script></body></html>`,
  },
  {
    id: "forsale_price_faq",
    domain: "urbanbikes.com",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>UrbanBikes.com - Premium domain for sale</title></head><body>
<header><h1>UrbanBikes.com</h1><p>This premium domain name is available for purchase!</p></header>
<section><h2>Buy now for $4,995</h2><p>Or make an offer. Lease-to-own from $208/month.</p><a href="/checkout">Buy Now</a> <a href="/offer">Make an Offer</a></section>
<section><h2>Secure transaction</h2><p>Every purchase is protected by Escrow.com. The seller never receives your payment until you confirm the domain transfer. Transfers typically complete within 24–48 hours.</p></section>
<section><h2>FAQ</h2><h3>How does the transfer work?</h3><p>After payment, we will initiate the transfer at the registrar. You will receive an authorization code by e-mail. Once the domain is in your account, the escrow agent releases the funds to the seller.</p><h3>Can I pay by credit card?</h3><p>Yes, we accept all major credit cards, PayPal, bank wire and cryptocurrencies.</p><h3>What if the transfer fails?</h3><p>You get a full refund. Your money is held by the escrow service until the transfer is complete, so there is no risk for you as a buyer.</p><h3>Do you offer payment plans?</h3><p>Yes, you can pay in monthly installments with our lease-to-own option. You can use the domain right away while paying.</p></section>
<footer>Questions? Call +1 (339) 222-5132 or email sales@domainbroker.example · 100 Cambridge St, Boston MA 02114 · <a href="/privacy">Privacy Policy</a> · <a href="/terms">Terms of Service</a></footer></body></html>`,
  },
  {
    id: "forsale_de",
    domain: "weinhandel-berlin.de",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>weinhandel-berlin.de kaufen</title></head><body><h1>Die Domain weinhandel-berlin.de steht zum Verkauf!</h1><p>Preis: 1.490 € · Preisvorschlag machen</p><p>Sichere Abwicklung über Treuhandservice. <a href="/kontakt">Kontakt</a> · <a href="/impressum">Impressum</a></p></body></html>`,
  },
  {
    id: "forsale_fr",
    domain: "immobilier-nice.fr",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="fr"><head><title>immobilier-nice.fr</title></head><body><h1>Ce nom de domaine est à vendre</h1><p>immobilier-nice.fr est à vendre. Faites une offre !</p><form><input name="offer" placeholder="Votre offre (€)"><input name="email" placeholder="Votre e-mail"><button>Envoyer</button></form></body></html>`,
  },
  {
    id: "forsale_nl",
    domain: "fietsenwinkel.nl",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="nl"><head><title>fietsenwinkel.nl is te koop</title></head><body><h1>fietsenwinkel.nl</h1><p>Deze domeinnaam is te koop. Doe een bod!</p></body></html>`,
  },
  {
    id: "forsale_es",
    domain: "clinicadental-sevilla.es",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="es"><head><title>clinicadental-sevilla.es</title></head><body><h1>¡Este dominio está en venta!</h1><p>¿Interesado? Haga una oferta.</p><p>Contacto: ventas@dominios.example</p></body></html>`,
  },
  {
    id: "forsale_it",
    domain: "gelateriaroma.it",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="it"><head><title>gelateriaroma.it</title></head><body><h1>Questo dominio è in vendita</h1><p>Contattaci per fare un'offerta.</p></body></html>`,
  },
  // ---- suspended
  {
    id: "cpanel_suspended",
    domain: "grandviewmotel.com",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html><head><title>Account Suspended</title><link rel="stylesheet" href="/cgi-sys/css/suspended.css"></head><body><div class="container"><h1>Account Suspended</h1><p>This Account has been suspended.</p><p>Contact your hosting provider for more information.</p></div></body></html>`,
  },
  {
    id: "hoster_suspended_contact",
    domain: "peakfitnessdenver.com",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>Website Suspended | HostPapa</title></head><body>
<header><img src="https://www.hostpapa.com/logo.svg" alt="HostPapa"><nav><a href="https://www.hostpapa.com/web-hosting/">Web Hosting</a> <a href="https://www.hostpapa.com/wordpress-hosting/">WordPress Hosting</a> <a href="https://www.hostpapa.com/domains/">Domains</a> <a href="https://www.hostpapa.com/email/">Email</a></nav></header>
<main><h1>This website has been suspended</h1><p>The website you are trying to reach is temporarily unavailable. If you are the owner of this website, please contact our billing department to restore service.</p></main>
<footer><h3>Contact HostPapa</h3><p>HostPapa Inc., 5063 North Service Rd, Suite 100, Burlington, ON L7L 5H6, Canada</p><p>Sales: 1-888-959-7272 · Support: 1-888-959-7272 · Email: support@hostpapa.com</p><p>Support hours: 24/7/365</p><p><a href="https://www.hostpapa.com/legal/">Legal</a> · <a href="https://www.hostpapa.com/privacy-policy/">Privacy Policy</a> · <a href="https://www.hostpapa.com/terms-of-service/">Terms of Service</a></p><p>© 2024 HostPapa. All rights reserved.</p></footer></body></html>`,
  },
  {
    id: "de_gesperrt",
    domain: "elektro-schulz.de",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>Webseite gesperrt</title></head><body><h1>Diese Webseite wurde vorübergehend gesperrt</h1><p>Bitte wenden Sie sich an Ihren Hosting-Anbieter.</p><p>all-inkl.com · Neue Medien Münnich · Hauptstraße 68 · 02742 Friedersdorf · <a href="https://all-inkl.com/impressum/">Impressum</a></p></body></html>`,
  },
  {
    id: "fr_suspendu",
    domain: "garage-moreau.fr",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="fr"><head><title>Site suspendu</title></head><body><h1>Ce site est temporairement suspendu</h1><p>Le propriétaire de ce site doit contacter son hébergeur.</p></body></html>`,
  },
  {
    id: "es_suspendida",
    domain: "academiaingles.es",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="es"><head><title>Cuenta suspendida</title></head><body><h1>Esta cuenta ha sido suspendida</h1><p>Por favor, contacte con su proveedor de hosting para más información.</p></body></html>`,
  },
  {
    id: "domain_expired_en",
    domain: "tristatehvac.com",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html><head><title>tristatehvac.com has expired</title></head><body><h1>This domain name expired on 2024-03-14</h1><p>If you are the owner of this domain, you can renew it now at your registrar. <a href="https://www.networksolutions.com/my-account/renew">Renew now</a></p><p>Network Solutions, LLC · 5335 Gate Parkway, Jacksonville, FL 32256 · 1-800-333-7680 · <a href="https://www.networksolutions.com/legal/privacy-policy">Privacy Policy</a></p></body></html>`,
  },
  {
    id: "nl_verlopen",
    domain: "schildersbedrijfdevries.nl",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="nl"><head><title>Domeinnaam verlopen</title></head><body><h1>Deze domeinnaam is verlopen</h1><p>De registratie van deze domeinnaam is niet verlengd. Bent u de eigenaar? Neem dan contact op met uw provider.</p></body></html>`,
  },
  // ---- others
  {
    id: "cs_pripravujeme",
    domain: "novakstavby.cz",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="cs"><head><title>Novák Stavby</title></head><body><h1>Web ve výstavbě</h1><p>Připravujeme pro vás nové webové stránky. Kontakt: tel. +420 602 123 456, info@novakstavby.cz, Hlavní 12, 110 00 Praha 1</p></body></html>`,
  },
  {
    id: "multilang_ch",
    domain: "hotel-alpenblick.ch",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>Hotel Alpenblick</title></head><body><h1>Hotel Alpenblick</h1>
<p lang="de">Unsere Webseite befindet sich im Aufbau.</p><p lang="fr">Notre site est en construction.</p><p lang="it">Il nostro sito è in costruzione.</p><p lang="en">Our website is under construction.</p>
<p>Dorfstrasse 8, 3818 Grindelwald · +41 33 853 12 34 · info@hotel-alpenblick.ch</p></body></html>`,
  },
  {
    id: "ru_skoro",
    domain: "stroymaster.ru",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="ru"><head><title>СтройМастер — сайт в разработке</title></head><body><h1>Сайт находится в разработке</h1><p>Скоро здесь появится наш новый сайт. Телефон: +7 (495) 123-45-67, Москва, ул. Ленина, д. 5</p></body></html>`,
  },
  {
    id: "ja_junbichu",
    domain: "tanaka-koumuten.jp",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="ja"><head><title>田中工務店</title></head><body><h1>ホームページ準備中</h1><p>現在ホームページを準備中です。お問い合わせはお電話でお願いいたします。</p><p>〒150-0001 東京都渋谷区神宮前1-2-3 TEL: 03-1234-5678</p></body></html>`,
  },
  {
    id: "da_kommer",
    domain: "toemrerhansen.dk",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="da"><head><title>Tømrer Hansen</title></head><body><h1>Hjemmeside under opbygning</h1><p>Vores nye hjemmeside kommer snart. Ring på 12 34 56 78 eller skriv til info@toemrerhansen.dk</p></body></html>`,
  },
  {
    id: "thin_domain_only",
    domain: "smithandsons.com",
    expect: "placeholder",
    html:
      `<html><head><title>smithandsons.com</title></head><body><h1>smithandsons.com</h1></body></html>`,
  },
  {
    id: "index_of",
    domain: "harborpharmacy.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 3.2 Final//EN"><html><head><title>Index of /</title></head><body><h1>Index of /</h1><table><tr><th valign="top"><img src="/icons/blank.gif" alt="[ICO]"></th><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th><th><a href="?C=S;O=A">Size</a></th><th><a href="?C=D;O=A">Description</a></th></tr><tr><th colspan="5"><hr></th></tr><tr><td valign="top"><img src="/icons/folder.gif" alt="[DIR]"></td><td><a href="cgi-bin/">cgi-bin/</a></td><td align="right">2024-01-10 12:00</td><td align="right"> - </td><td>&nbsp;</td></tr><tr><th colspan="5"><hr></th></tr></table><address>Apache Server at harborpharmacy.com Port 80</address></body></html>`,
  },

  // ---- round 2: variants
  {
    id: "strato_variant",
    domain: "zahnarzt-klein.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>zahnarzt-klein.de – Domain reserviert | STRATO</title></head><body>
<header><img src="https://www.strato.de/logo.svg" alt="STRATO"></header><h1>Willkommen!</h1><p>Die Domain zahnarzt-klein.de wurde über STRATO registriert. Hier ist noch keine Website vorhanden.</p>
<h2>Jetzt eigene Domain sichern</h2><form><input placeholder="Wunschdomain"><button>Prüfen</button></form>
<footer>STRATO GmbH · Otto-Ostrowski-Straße 7 · 10249 Berlin · Kundenservice: 030 300 146 0 · <a href="https://www.strato.de/impressum/">Impressum</a> · <a href="https://www.strato.de/datenschutz/">Datenschutz</a></footer></body></html>`,
  },
  {
    id: "godaddy_future_home",
    domain: "redrockdental.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>redrockdental.com</title></head><body><h1>Future home of something quite cool.</h1><p>If you're the site owner, <a href="https://sso.godaddy.com">log in</a> to launch this site</p><p>If you are a visitor, check back soon.</p><p>Copyright © 1999-2024 GoDaddy Operating Company, LLC. All Rights Reserved. <a href="https://www.godaddy.com/legal/agreements/privacy-policy">Privacy Policy</a></p></body></html>`,
  },
  {
    id: "namecheap_recent",
    domain: "millbrookdeli.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html><head><title>millbrookdeli.com</title></head><body><img src="https://www.namecheap.com/assets/img/nc-logo.svg" alt="Namecheap"><h1>millbrookdeli.com</h1><p>This domain is registered at Namecheap.</p><p>This domain was recently registered at <a href="https://www.namecheap.com">Namecheap</a>. Please check back later!</p><p><a href="https://www.namecheap.com/legal/general/privacy-policy/">Privacy Policy</a></p></body></html>`,
  },
  {
    id: "suspended_contact_body",
    domain: "coastalyoga.com",
    expect: "suspended",
    html: `<!DOCTYPE html><html lang="en"><head><title>Site Unavailable</title></head><body>
<h1>Sorry! This site is temporarily unavailable.</h1><p>This account has been suspended. If you are the account owner, please contact our billing team.</p>
<footer><h3>Contact Us</h3><p>A2 Hosting, Inc. · PO Box 2998 · Ann Arbor, MI 48106 · Phone: 734-222-4678 · support@a2hosting.com</p><p>Support hours: 24/7/365 · <a href="/privacy-policy">Privacy Policy</a> · <a href="/terms">Terms</a></p></footer></body></html>`,
  },
  {
    id: "de_hosting_abgelaufen",
    domain: "fahrschule-berg.de",
    expect: "suspended",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>Vertrag abgelaufen</title></head><body><h1>Diese Website ist derzeit nicht erreichbar</h1><p>Der Hosting-Vertrag für diese Domain ist abgelaufen.</p><p>Sind Sie der Inhaber? Bitte melden Sie sich im Kundenbereich an.</p><p>Host Europe GmbH · Hansestraße 111 · 51149 Köln · Tel.: 0221 99999 301 · <a href="https://www.hosteurope.de/AGB/Impressum/">Impressum</a> · <a href="https://www.hosteurope.de/Datenschutz/">Datenschutz</a></p></body></html>`,
  },
  {
    id: "hugedomains",
    domain: "urbanflorist.com",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>UrbanFlorist.com is for sale | HugeDomains</title></head><body>
<header><img src="/images/hd-logo.png" alt="HugeDomains"><a href="/">Home</a> <a href="/help">Help</a></header><h1>UrbanFlorist.com</h1><h2>Buy now for $2,895</h2><p>Or pay $120.63 per month for 24 months. 0% interest.</p>
<p>Get a great deal on this domain! Our domain experts are available to answer your questions. Secure payment and fast transfer. 30-day money-back guarantee.</p>
<h3>Why buy from HugeDomains?</h3><ul><li>Free ownership transfer</li><li>Secure payments</li><li>Fast shipping of domains</li></ul>
<footer>HugeDomains.com · 2635 Walnut Street, Denver, CO 80205 · Call 303-893-0552 · Mon–Fri 9am–5pm MT · <a href="/privacy.cfm">Privacy Policy</a> · <a href="/terms.cfm">Terms of Use</a></footer></body></html>`,
  },
  {
    id: "dan_lander",
    domain: "solarpeak.com",
    expect: "for_sale",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>solarpeak.com</title></head><body><h1>solarpeak.com</h1><h2>Get this domain</h2><p>Pay the full USD $3,450 now, or choose Lease to Own. Make an offer.</p><p>Buyer protection program: when you buy a domain name at Dan.com, you're automatically covered by our unique buyer protection program. Fast and easy transfers. Hassle free payments: we support all major credit cards and bank transfers.</p><p>The domain owner is free to accept, reject or counter your offer. Escrow: your payment is held safely until the transfer completes.</p></body></html>`,
  },
  {
    id: "squarespace_parked_domain",
    domain: "fernandfig.com",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="en"><head><title>fernandfig.com</title></head><body><h1>fernandfig.com</h1><p>This domain was registered with Squarespace Domains. The owner hasn't connected it to a website yet.</p><a href="https://domains.squarespace.com">Get your own domain</a></body></html>`,
  },
  {
    id: "wix_free_banner_only",
    domain: "casa-luz.es",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="es"><head><title>Este sitio aún no está publicado | Wix.com</title></head><body><h1>Parece que este sitio aún no ha sido publicado.</h1><p>Este sitio fue creado con el creador de sitios web de Wix.com. ¡Crea tu sitio web hoy!</p><a href="https://es.wix.com">Comenzar</a></body></html>`,
  },
  {
    id: "fr_bientot_contact",
    domain: "fleuriste-rose.fr",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="fr"><head><title>Fleuriste Rose</title></head><body><h1>Fleuriste Rose</h1><h2>Notre nouveau site arrive bientôt !</h2><p>En attendant, retrouvez-nous en boutique au 5 place du Marché, 33000 Bordeaux. Tél. 05 56 12 34 56 · Ouvert du mardi au samedi de 9h à 19h.</p><p><a href="https://facebook.com/fleuristerose">Facebook</a></p></body></html>`,
  },
  {
    id: "it_contact",
    domain: "idraulicorossi.it",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="it"><head><title>Idraulico Rossi</title></head><body><h1>Idraulico Rossi</h1><p>Il sito è in costruzione, torna a trovarci presto!</p><p>Via Garibaldi 22, 20121 Milano · Tel. 02 1234 5678 · Cell. 333 123 4567 · info@idraulicorossi.it</p></body></html>`,
  },
  {
    id: "de_im_aufbau_contact",
    domain: "elektro-meyer.de",
    expect: "placeholder",
    html:
      `<!DOCTYPE html><html lang="de"><head><title>Elektro Meyer</title></head><body><h1>Elektro Meyer</h1><p>Unsere Homepage ist im Aufbau.</p><p>Elektro Meyer GmbH · Bahnhofstraße 3 · 50667 Köln · Tel. 0221 123456 · info@elektro-meyer.de</p><p><a href="/impressum">Impressum</a></p></body></html>`,
  },
];

/** Short pages: working businesses (`live`) and placeholders (`lead`). */
export const SHORT_PAGES: ReviewPage[] = [
  // ---------------- LIVE: short working business pages ----------------
  {
    id: "L01-de-willkommen-webseite",
    expect: "live",
    domain: "baeckerei-huber.de",
    html: pg(
      "de",
      "Bäckerei Huber – Landshut",
      `<h1>Willkommen auf unserer Webseite</h1><p>Seit 1962 backen wir Brot, Brezen und Kuchen nach Familienrezept.</p><h2>Öffnungszeiten</h2><p>Mo–Fr 6:00–18:00 Uhr, Sa 6:00–12:00 Uhr</p><p>Altstadt 14, 84028 Landshut · Tel. 0871 234567</p><footer><a href="/impressum">Impressum</a> <a href="/datenschutz">Datenschutz</a></footer>`,
    ),
  },
  {
    id: "L02-en-new-website-live",
    expect: "live",
    domain: "rapidplumbing.com",
    html: pg(
      "en",
      "Rapid Plumbing | Springfield IL",
      `<h1>Rapid Plumbing</h1><h2>Our new website is live!</h2><p>Leaks, boilers, drains – licensed and insured, same-day service.</p><p>Call (217) 555-0134 or email office@rapidplumbing.com</p><p>1200 W. Main St., Springfield IL 62701</p>`,
    ),
  },
  {
    id: "L03-de-neue-website-online",
    expect: "live",
    domain: "elektro-wagner.de",
    html: pg(
      "de",
      "Elektro Wagner GmbH",
      `<h1>Elektro Wagner</h1><h2>Neue Website online!</h2><p>Elektroinstallation, Photovoltaik und E-Mobilität aus einer Hand.</p><p>Industriestraße 8, 90411 Nürnberg</p><p>Telefon 0911 998877 · info@elektro-wagner.de</p>`,
    ),
  },
  {
    id: "L04-de-relaunch",
    expect: "live",
    domain: "kanzlei-brandt.de",
    html: pg(
      "de",
      "Kanzlei Brandt | Website-Relaunch 2025",
      `<h1>Rechtsanwältin Dr. Julia Brandt</h1><h2>Website-Relaunch 2025</h2><p>Arbeitsrecht, Mietrecht und Familienrecht. Termine nach Vereinbarung.</p><p>Königstraße 22, 70173 Stuttgart · Tel. 0711 5566778 · kanzlei@kanzlei-brandt.de</p><a href="/impressum">Impressum</a>`,
    ),
  },
  {
    id: "L05-de-cookies-heading",
    expect: "live",
    domain: "friseur-lena.de",
    html: pg(
      "de",
      "Friseur Lena",
      `<div class="cookie"><h3>Diese Seite verwendet Cookies</h3><p>Mit der Nutzung stimmen Sie zu. <button>OK</button></p></div><h1>Friseur Lena</h1><p>Schneiden, Färben, Hochsteckfrisuren.</p><p>Di–Fr 9–18 Uhr, Sa 8–13 Uhr</p><p>Hauptstr. 5, 79098 Freiburg · 0761 445566</p>`,
    ),
  },
  {
    id: "L06-en-cookies-maintained",
    expect: "live",
    domain: "greenleaf-dental.co.uk",
    html: pg(
      "en",
      "Greenleaf Dental Practice",
      `<h1>Greenleaf Dental Practice</h1><p>NHS and private dentistry for the whole family in Leeds.</p><p>Opening hours: Mon–Fri 8:30–17:30</p><p>Phone 0113 496 0123 · 14 Park Row, Leeds LS1 5HD</p><p>This site uses cookies. This website is maintained by Northern Web Ltd.</p>`,
    ),
  },
  {
    id: "L07-de-jimdo",
    expect: "live",
    domain: "hofladen-kramer.de",
    html: pg(
      "de",
      "Hofladen Kramer",
      `<h1>Hofladen Kramer</h1><p>Eier, Kartoffeln, Honig und Spargel direkt vom Hof.</p><p>Öffnungszeiten: Fr 14–18 Uhr, Sa 9–13 Uhr</p><p>Dorfstraße 3, 29525 Uelzen · Telefon 0581 12345</p><footer>Diese Website wurde erstellt mit Jimdo. <a href="/about">Impressum</a></footer>`,
    ),
  },
  {
    id: "L08-fr-bienvenue-realise",
    expect: "live",
    domain: "boulangerie-martin.fr",
    html: pg(
      "fr",
      "Boulangerie Martin – Lyon",
      `<h1>Bienvenue sur notre site</h1><p>Pains au levain, viennoiseries et pâtisseries maison.</p><p>Horaires : mar–sam 7h–19h30, dim 7h–13h</p><p>12 rue Mercière, 69002 Lyon · Tél. 04 78 12 34 56</p><footer>Site réalisé par Agence Pixel · <a href="/mentions">Mentions légales</a></footer>`,
    ),
  },
  {
    id: "L09-de-galerie-seite-im-aufbau",
    expect: "live",
    domain: "mueller-bau.de",
    html: pg(
      "de",
      "Müller Bau GmbH – Bauunternehmen in Kassel",
      `<h1>Müller Bau GmbH</h1><p>Rohbau, Umbau und Sanierung seit 1985.</p><h2>Leistungen</h2><p>Neubau · Altbausanierung · Pflasterarbeiten</p><h2>Galerie – Seite im Aufbau</h2><h2>Kontakt</h2><p>Werner-Hilpert-Str. 5, 34117 Kassel · Tel. 0561 778899 · info@mueller-bau.de</p>`,
    ),
  },
  {
    id: "L10-en-gallery-section-under-construction",
    expect: "live",
    domain: "bellavista-kitchen.com",
    html: pg(
      "en",
      "Bella Vista Kitchen",
      `<h1>Bella Vista Kitchen</h1><p>Wood-fired pizza and fresh pasta, dine in or take away.</p><p>Open Tue–Sun 5–10 pm · 88 Harbor Rd, Mystic CT 06355 · (860) 555-0199</p><h2>Gallery</h2><p>This part of our website is under construction – photos coming soon!</p>`,
    ),
  },
  {
    id: "L11-de-ionos-footer",
    expect: "live",
    domain: "schreinerei-vogt.de",
    html: pg(
      "de",
      "Schreinerei Vogt",
      `<h1>Schreinerei Vogt</h1><p>Möbel nach Maß, Innenausbau, Fenster und Türen.</p><p>Am Sägewerk 2, 88212 Ravensburg · Tel. 0751 36363 · vogt@schreinerei-vogt.de</p><footer>Domain &amp; Hosting by IONOS · © 2025 schreinerei-vogt.de</footer>`,
    ),
  },
  {
    id: "L12-de-imprint-names-domain",
    expect: "live",
    domain: "mueller-dach.de",
    html: pg(
      "de",
      "Müller Dachdeckerei",
      `<h1>Dachdeckerei Müller</h1><p>Steildach, Flachdach, Dachfenster, Reparaturen.</p><p>Tel. 0231 445566 · Hohe Str. 9, 44139 Dortmund</p><footer>Verantwortlich für den Inhalt von mueller-dach.de: Peter Müller, Hohe Str. 9, 44139 Dortmund. <a href="/impressum">Impressum</a></footer>`,
    ),
  },
  {
    id: "L13-en-shop-coming-soon-hours-email",
    expect: "live",
    domain: "harborbakery.com",
    html: pg(
      "en",
      "Harbor Bakery | Portland",
      `<h1>Harbor Bakery</h1><p>Sourdough, croissants and cakes baked every morning.</p><h2>Opening hours</h2><p>Mon–Fri 7:00–18:00 · Sat 8:00–14:00</p><h2>Online shop coming soon</h2><p>Until then order by phone 503 555 0182 or info@harborbakery.com</p>`,
    ),
  },
  {
    id: "L14-de-terminbuchung-demnaechst-email",
    expect: "live",
    domain: "zahnarzt-klein.de",
    html: pg(
      "de",
      "Zahnarztpraxis Dr. Klein",
      `<h1>Zahnarztpraxis Dr. Klein</h1><p>Prophylaxe, Implantate, Kinderzahnheilkunde.</p><p>Sprechzeiten: Mo–Do 8–18 Uhr, Fr 8–13 Uhr</p><p>Online-Terminbuchung demnächst verfügbar – bis dahin: Tel. 089 1234567, praxis@zahnarzt-klein.de</p><p>Leopoldstr. 40, 80802 München</p>`,
    ),
  },
  {
    id: "L15-en-welcome-website",
    expect: "live",
    domain: "oakridge-law.com",
    html: pg(
      "en",
      "Oakridge Law Group",
      `<h1>Welcome to our website</h1><p>Oakridge Law Group handles family law, estate planning and real estate closings.</p><p>450 Elm St., Suite 200, Dayton OH 45402</p><p>(937) 555-0147 · contact@oakridge-law.com</p>`,
    ),
  },
  {
    id: "L16-en-booking-coming-soon-cookie-banner",
    expect: "live",
    domain: "stonecuts-barber.com",
    html: pg(
      "en",
      "Stone Cuts Barbershop",
      `<h1>Stone Cuts Barbershop</h1><p>Fades, beard trims, hot towel shaves. Walk-ins welcome.</p><p>Tue–Sat 9–7 · 27 King St, Bristol BS1 4EF · 0117 496 0777</p><p>Online booking coming soon</p><div class="cookie-banner">This website uses cookies <button>Accept</button></div>`,
    ),
  },
  {
    id: "L17-fr-bienvenue-reservation-bientot",
    expect: "live",
    domain: "chez-paulette.fr",
    html: pg(
      "fr",
      "Chez Paulette – Bistrot",
      `<h1>Bienvenue sur notre site</h1><p>Cuisine du marché, menu du jour à 16 €.</p><p>Horaires : lun–ven 12h–14h30, 19h–22h</p><p>Réservation en ligne bientôt disponible.</p><p>5 place du Marché, 33000 Bordeaux · 05 56 11 22 33</p>`,
    ),
  },
  {
    id: "L18-fr-winery-domaine-bientot",
    expect: "live",
    domain: "domaine-roche.fr",
    html: pg(
      "fr",
      "Domaine de la Roche – Vins de Bourgogne",
      `<h1>Domaine de la Roche</h1><p>Vigneron indépendant à Meursault depuis 1921.</p><h2>Domaine de la Roche · Millésime 2024 bientôt disponible</h2><p>Caveau ouvert lun–sam 9h–12h, 14h–18h</p><p>3 rue de la Velle, 21190 Meursault · 03 80 21 00 00</p>`,
    ),
  },
  {
    id: "L19-fr-ce-domaine-bientot",
    expect: "live",
    domain: "chateau-lagrange-vins.fr",
    html: pg(
      "fr",
      "Château Lagrange – Bordeaux",
      `<h1>Château Lagrange</h1><p>Ce domaine familial de 12 hectares produit des rouges de garde, notre nouvelle cuvée sera bientôt disponible à la propriété</p><p>Visites : lun–sam 10h–17h</p><p>Route de Pauillac, 33250 Saint-Julien · 05 56 59 00 00</p>`,
    ),
  },
  {
    id: "L20-fr-nouveau-site-production",
    expect: "live",
    domain: "menuiserie-bernard.fr",
    html: pg(
      "fr",
      "Menuiserie Bernard",
      `<h1>Menuiserie Bernard</h1><p>Fenêtres, portes et escaliers sur mesure en bois massif.</p><h2>Notre nouveau site de Nantes en construction</h2><p>Ouverture prévue au printemps 2026.</p><p>ZA des Landes, 44300 Nantes · 02 40 00 11 22 · contact@menuiserie-bernard.fr</p>`,
    ),
  },
  {
    id: "L21-en-builder-site-under-construction",
    expect: "live",
    domain: "hartley-homes.co.uk",
    html: pg(
      "en",
      "Hartley Homes – Builders in Harrogate",
      `<h1>Hartley Homes</h1><p>Family builders of quality new homes across North Yorkshire.</p><h3>Current site: Meadow View – 12 homes under construction</h3><p>Show home open Sat–Sun 10–4</p><p>01423 555 010 · sales@hartley-homes.co.uk</p>`,
    ),
  },
  {
    id: "L22-it-immobiliare-sito-in-costruzione",
    expect: "live",
    domain: "immobiliare-rossi.it",
    html: pg(
      "it",
      "Immobiliare Rossi – Monza",
      `<h1>Immobiliare Rossi</h1><p>Compravendite e affitti a Monza e Brianza.</p><h3>Attico sito a Monza, in costruzione – consegna 2026</h3><p>Via Italia 12, 20900 Monza · Tel. 039 123456 · info@immobiliare-rossi.it</p>`,
    ),
  },
  {
    id: "L23-en-gas-safe-registered-footer",
    expect: "live",
    domain: "smith-plumbing.co.uk",
    html: pg(
      "en",
      "Smith Plumbing & Heating",
      `<h1>Smith Plumbing &amp; Heating</h1><p>Boiler installs, servicing and repairs in Manchester.</p><p>Call 0161 496 0555 · jobs@smith-plumbing.co.uk</p><footer>© 2025 smith-plumbing.co.uk · Website by Pixel Studio · Registered with Gas Safe, no. 123456</footer>`,
    ),
  },
  {
    id: "L24-en-this-site-being-updated-menu",
    expect: "live",
    domain: "thegreenfork.com",
    html: pg(
      "en",
      "The Green Fork Café",
      `<h1>The Green Fork Café</h1><p>This site is being updated, meanwhile here is our menu and hours:</p><p>Breakfast bowls $9 · Avocado toast $8 · Soup of the day $6 · Flat white $4</p><p>Open daily 7–3 · 210 Pine St, Boulder CO 80302 · (303) 555-0102</p>`,
    ),
  },
  {
    id: "L25-en-delivery-suspended-domain",
    expect: "live",
    domain: "pizza-luigi.com",
    html: pg(
      "en",
      "Pizza Luigi",
      `<h1>Pizza Luigi</h1><p>Neapolitan pizza since 1998. Eat in or collect.</p><p>Open Wed–Mon 4–11 pm · 18 High St, Croydon CR0 1NA · 020 7946 0321</p><p>Online orders at pizza-luigi.com are temporarily suspended until 7 January</p>`,
    ),
  },
  {
    id: "L26-en-it-firm-domain-expired-heading",
    expect: "live",
    domain: "fixit-it.com",
    html: pg(
      "en",
      "FixIt IT Support",
      `<h1>FixIt IT Support</h1><h2>Website suspended? Domain expired? We help within 24h.</h2><p>Email, hosting and network support for small offices.</p><p>(512) 555-0160 · help@fixit-it.com · 300 Congress Ave, Austin TX 78701</p>`,
    ),
  },
  {
    id: "L27-en-collection-coming-soon-instagram-page",
    expect: "live",
    domain: "lulu-boutique.com",
    html: pg(
      "en",
      "Lulu Boutique",
      `<h1>Lulu Boutique</h1><p>Women's fashion and accessories on Church Street.</p><h2>Spring collection coming soon – follow our Instagram page</h2><p>Mon–Sat 10–6 · 41 Church St, Charleston SC 29401 · (843) 555-0111</p>`,
    ),
  },
  {
    id: "L28-en-coming-soon-on-this-page-menu",
    expect: "live",
    domain: "saltandember.com",
    html: pg(
      "en",
      "Salt & Ember Grill",
      `<h1>Salt &amp; Ember Grill</h1><p>Steaks, seafood and craft cocktails.</p><h3>Coming soon on this page: our summer menu</h3><p>Open Tue–Sun 5–11 pm · 9 Water St, Newport RI 02840 · (401) 555-0180</p>`,
    ),
  },
  {
    id: "L29-es-bienvenidos-tienda-proximamente",
    expect: "live",
    domain: "panaderia-lopez.es",
    html: pg(
      "es",
      "Panadería López – Sevilla",
      `<h1>Bienvenidos a nuestra página web</h1><p>Pan artesano, bollería y tartas por encargo.</p><h2>Tienda online próximamente disponible</h2><p>Horario: lun–sáb 7:00–14:00</p><p>Calle Feria 21, 41003 Sevilla · Tel. 954 123 456</p>`,
    ),
  },
  {
    id: "L30-es-web-mantenimiento-piscina",
    expect: "live",
    domain: "hostal-mar-azul.es",
    html: pg(
      "es",
      "Hostal Mar Azul – Cádiz",
      `<h1>Hostal Mar Azul</h1><p>Habitaciones dobles a 50 metros de la playa, desayuno incluido.</p><h3>Aviso de esta web: piscina en mantenimiento hasta junio</h3><p>Recepción 24 h · Tel. 956 111 222 · reservas@hostal-mar-azul.es</p>`,
    ),
  },
  {
    id: "L31-it-benvenuti-sito-presto-online",
    expect: "live",
    domain: "trattoria-dagino.it",
    html: pg(
      "it",
      "Trattoria da Gino – Firenze",
      `<h1>Benvenuti sul nostro sito</h1><p>Cucina toscana, bistecca alla fiorentina, vini locali.</p><p>Orari: mar–dom 12–15, 19–23</p><p>Prenotazioni online presto online, intanto chiamate lo 055 123456</p><p>Via dei Neri 10, 50122 Firenze</p>`,
    ),
  },
  {
    id: "L32-it-bnb-sito-nel-centro",
    expect: "live",
    domain: "bb-ilglicine.it",
    html: pg(
      "it",
      "B&B Il Glicine – Lucca",
      `<h1>B&amp;B Il Glicine</h1><h2>Sito nel centro storico – nuova suite prossimamente disponibile</h2><p>Tre camere con colazione, a due passi dalle Mura.</p><p>Via Fillungo 50, 55100 Lucca · Tel. 0583 123456 · info@bb-ilglicine.it</p>`,
    ),
  },
  {
    id: "L33-nl-welkom-webshop-binnenkort-email",
    expect: "live",
    domain: "bakkerij-jansen.nl",
    html: pg(
      "nl",
      "Bakkerij Jansen – Utrecht",
      `<h1>Welkom op onze website</h1><p>Ambachtelijk brood en gebak uit eigen oven.</p><p>Openingstijden: ma–za 7:00–17:00</p><h2>Webshop binnenkort online</h2><p>Bestellen kan al via 030 123 4567 of bestel@bakkerij-jansen.nl</p>`,
    ),
  },
  {
    id: "L34-nl-deze-website-cookies",
    expect: "live",
    domain: "fysio-dewit.nl",
    html: pg(
      "nl",
      "Fysiotherapie De Wit",
      `<h1>Fysiotherapie De Wit</h1><p>Sportblessures, rugklachten en revalidatie. Geen verwijzing nodig.</p><p>Kerkstraat 12, 2011 AB Haarlem · Tel. 023 555 1234</p><p>Deze website gebruikt cookies. Online afspraken maken binnenkort beschikbaar.</p>`,
    ),
  },
  {
    id: "L35-pt-bem-vindo-loja-em-breve",
    expect: "live",
    domain: "pastelaria-lisboa.pt",
    html: pg(
      "pt",
      "Pastelaria Alfama",
      `<h1>Bem-vindo ao nosso site</h1><p>Pastéis de nata, bolos e café desde 1975.</p><p>Horário: seg–dom 7h–20h</p><h2>Encomendas online em breve disponível</h2><p>Rua da Regueira 3, 1100-436 Lisboa · Tel. 218 123 456</p>`,
    ),
  },
  {
    id: "L36-pl-strona-glowna-sklep-wkrotce",
    expect: "live",
    domain: "piekarnia-nowak.pl",
    html: pg(
      "pl",
      "Strona główna – Piekarnia Nowak",
      `<nav>Strona główna · O nas · Sklep (wkrótce) · Kontakt</nav><h1>Piekarnia Nowak</h1><p>Chleb na zakwasie i drożdżówki codziennie od 6 rano.</p><p>Godziny otwarcia: pon–sob 6–18</p><p>ul. Długa 5, 31-147 Kraków · tel. 12 345 67 89</p>`,
    ),
  },
  {
    id: "L37-pl-witamy-ta-strona-cookies",
    expect: "live",
    domain: "gabinet-zielinska.pl",
    html: pg(
      "pl",
      "Gabinet Stomatologiczny Zielińska",
      `<h1>Witamy na naszej stronie</h1><p>Stomatologia zachowawcza, protetyka i higienizacja.</p><p>pon–pt 9–19 · ul. Polna 8, 00-625 Warszawa · tel. 22 123 45 67</p><p>Ta strona używa plików cookies. Rejestracja online już wkrótce.</p>`,
    ),
  },
  {
    id: "L38-sv-valkommen-hemsida",
    expect: "live",
    domain: "cafe-linden.se",
    html: pg(
      "sv",
      "Café Linden – Uppsala",
      `<h1>Välkommen till vår hemsida</h1><p>Vi bakar surdegsbröd och kanelbullar varje morgon.</p><p>Öppettider: mån–fre 7–18, lör 9–16</p><p>Svartbäcksgatan 10, 753 20 Uppsala · Tel. 018-12 34 56</p><p>Vår nya webbshop kommer snart.</p>`,
    ),
  },
  {
    id: "L39-sv-hemsida-heading-snart",
    expect: "live",
    domain: "malare-berg.se",
    html: pg(
      "sv",
      "Målare Berg AB",
      `<h1>Målare Berg AB</h1><p>Invändig och utvändig målning, tapetsering, fasadrenovering i Göteborg.</p><h2>Ny hemsida – referensbilder kommer snart</h2><p>Ring 031-123 45 67 · info@malare-berg.se</p>`,
    ),
  },
  {
    id: "L40-de-wartungsarbeiten-service",
    expect: "live",
    domain: "heizung-schmid.de",
    html: pg(
      "de",
      "Heizung Schmid – Meisterbetrieb",
      `<h1>Heizung Schmid</h1><p>Heizung, Sanitär und Solar in Augsburg und Umgebung.</p><h2>Wartungsarbeiten</h2><p>Jährliche Heizungswartung zum Festpreis.</p><p>Tel. 0821 556677 · Bahnhofstr. 4, 86150 Augsburg</p>`,
    ),
  },
  {
    id: "L41-de-handwerkskammer-registriert",
    expect: "live",
    domain: "fliesen-keller.de",
    html: pg(
      "de",
      "Fliesen Keller",
      `<h1>Fliesen Keller</h1><p>Fliesen, Naturstein und Badsanierung aus Meisterhand.</p><p>Tel. 0621 445566 · Lindenhofstr. 3, 68163 Mannheim</p><footer>Domain &amp; Hosting bei IONOS | Meisterbetrieb, bei der Handwerkskammer Mannheim registriert</footer>`,
    ),
  },
  {
    id: "L42-de-this-domain-shop-demnaechst",
    expect: "live",
    domain: "weingut-seeger.de",
    html: pg(
      "de",
      "Weingut Seeger",
      `<h1>Weingut Seeger</h1><p>Riesling und Spätburgunder von der Bergstraße.</p><p>Hofverkauf: Fr 14–18 Uhr, Sa 10–16 Uhr · Tel. 06221 12345</p><p>Unser Online-Shop unter weingut-seeger.de/shop ist demnächst verfügbar</p>`,
    ),
  },
  {
    id: "L43-en-tattoo-only-phone-booking-soon",
    expect: "live",
    domain: "inkneedle.co.uk",
    html: pg(
      "en",
      "Ink & Needle Tattoo",
      `<h1>Ink &amp; Needle Tattoo</h1><p>Custom tattoos, cover-ups and piercing. Walk-ins welcome.</p><p>Call 0161 555 0134</p><p>Online booking coming soon!</p>`,
    ),
    note: "only one contact kind",
  },
  {
    id: "L44-cs-vitejte-web",
    expect: "live",
    domain: "pekarna-novak.cz",
    html: pg(
      "cs",
      "Pekárna Novák",
      `<h1>Vítejte na našem webu</h1><p>Kváskový chléb a koláče každé ráno.</p><p>Otevírací doba: po–pá 6–18</p><p>Dlouhá 12, 110 00 Praha 1 · tel. 222 333 444</p><p>Tento web používá cookies. E-shop již brzy.</p>`,
    ),
  },
  {
    id: "L45-da-velkommen",
    expect: "live",
    domain: "bager-hansen.dk",
    html: pg(
      "da",
      "Bager Hansen",
      `<h1>Velkommen til vores hjemmeside</h1><p>Rugbrød, wienerbrød og lagkager bagt hver morgen.</p><p>Åbningstider: man–lør 6–17</p><p>Vestergade 4, 8000 Aarhus · Tlf. 86 12 34 56</p>`,
    ),
  },
  {
    id: "L46-tr-hosgeldiniz",
    expect: "live",
    domain: "lokanta-deniz.com.tr",
    html: pg(
      "tr",
      "Lokanta Deniz",
      `<h1>Web sitemize hoş geldiniz</h1><p>Taze balık ve meze, Boğaz manzarası.</p><p>Çalışma saatleri: her gün 12–24</p><p>Bebek Cad. 5, İstanbul · Tel. 0212 123 45 67</p>`,
    ),
  },
  {
    id: "L47-en-online-shop-coming-soon-h1-with-hours",
    expect: "live",
    domain: "rosie-florist.com",
    html: pg(
      "en",
      "Rosie's Florist – Bath",
      `<h1>Rosie's Florist</h1><p>Bouquets, weddings and funeral flowers, delivered across Bath.</p><h2>Our new website shop: coming soon</h2><p>Shop open Mon–Sat 9–5:30 · 3 Milsom St, Bath BA1 1DA · 01225 555 019</p>`,
    ),
    note: "heading 'website shop: coming soon'",
  },
  {
    id: "L48-en-hoster-template-real-content",
    expect: "live",
    domain: "kellyscleaning.com",
    html: pg(
      "en",
      "Kelly's Cleaning Services – Built with GoDaddy Website Builder",
      `<h1>Kelly's Cleaning Services</h1><p>Home and office cleaning, move-out cleans, carpets.</p><p>Mon–Sat 8 am – 6 pm · (702) 555-0133 · kelly@kellyscleaning.com</p><footer>Copyright © 2025 Kelly's Cleaning Services – All Rights Reserved. Powered by GoDaddy</footer>`,
    ),
  },

  // ---------------- LEADS: short placeholders ----------------
  {
    id: "P01-de-neue-website-bald-online-h2",
    expect: "lead",
    domain: "schulz-maler.de",
    html: pg(
      "de",
      "Malerbetrieb Schulz",
      `<h1>Malerbetrieb Schulz</h1><h2>Unsere neue Website ist bald online</h2><p>Sie erreichen uns unter Tel. 040 123456 · Hafenstr. 3, 20359 Hamburg</p>`,
    ),
  },
  {
    id: "P02-en-this-site-under-construction",
    expect: "lead",
    domain: "parker-cpa.com",
    html: pg(
      "en",
      "Parker CPA",
      `<h1>Parker CPA</h1><p>This site is under construction. Please call (614) 555-0190 or email info@parker-cpa.com</p>`,
    ),
  },
  {
    id: "P03-de-registrar-names-domain",
    expect: "lead",
    domain: "zahnarzt-lang.de",
    html: pg(
      "de",
      "zahnarzt-lang.de",
      `<h1>zahnarzt-lang.de</h1><p>Die Domain zahnarzt-lang.de wurde über STRATO registriert. STRATO AG, Otto-Ostrowski-Str. 7, 10249 Berlin · Tel. 030 300 146 0</p>`,
    ),
  },
  {
    id: "P04-fr-site-en-construction",
    expect: "lead",
    domain: "garage-dupont.fr",
    html: pg(
      "fr",
      "Garage Dupont",
      `<h1>Garage Dupont</h1><h2>Notre site est en construction</h2><p>Tél. 02 99 12 34 56 · 8 avenue Foch, 35000 Rennes</p>`,
    ),
  },
  {
    id: "P05-es-preparando-pagina",
    expect: "lead",
    domain: "clinica-ruiz.es",
    html: pg(
      "es",
      "Clínica Ruiz",
      `<h1>Clínica Ruiz</h1><p>Estamos preparando nuestra nueva página web. Tel. 91 123 45 67 · info@clinica-ruiz.es</p>`,
    ),
  },
  {
    id: "P06-it-sito-in-costruzione",
    expect: "lead",
    domain: "studio-bianchi.it",
    html: pg(
      "it",
      "Studio Legale Bianchi",
      `<h1>Studio Legale Bianchi</h1><h2>Sito in costruzione</h2><p>Tel. 02 1234 5678 · Via Dante 4, 20121 Milano</p>`,
    ),
  },
  {
    id: "P07-nl-deze-website-binnenkort",
    expect: "lead",
    domain: "kapper-visser.nl",
    html: pg(
      "nl",
      "Kapsalon Visser",
      `<h1>Kapsalon Visser</h1><p>Deze website is binnenkort online. Bel 020 123 4567 of mail info@kapper-visser.nl</p>`,
    ),
  },
  {
    id: "P08-pt-site-em-construcao",
    expect: "lead",
    domain: "oficina-silva.pt",
    html: pg(
      "pt",
      "Oficina Silva",
      `<h1>Oficina Silva</h1><h2>Site em construção</h2><p>Tel. 22 123 4567 · geral@oficina-silva.pt</p>`,
    ),
  },
  {
    id: "P09-pl-strona-w-budowie",
    expect: "lead",
    domain: "auto-kowalski.pl",
    html: pg(
      "pl",
      "Auto Kowalski",
      `<h1>Auto Kowalski</h1><h2>Strona w budowie</h2><p>tel. 600 123 456 · biuro@auto-kowalski.pl</p>`,
    ),
  },
  {
    id: "P10-sv-hemsida-under-uppbyggnad",
    expect: "lead",
    domain: "bygg-lind.se",
    html: pg(
      "sv",
      "Bygg Lind AB",
      `<h1>Bygg Lind AB</h1><p>Vår hemsida är under uppbyggnad. Ring 08-123 45 67 eller mejla info@bygg-lind.se</p>`,
    ),
  },
  {
    id: "P11-en-hoster-suspended",
    expect: "lead",
    domain: "bluefin-sushi.com",
    html: pg(
      "en",
      "Account Suspended",
      `<h1>This account has been suspended</h1><p>Contact your hosting provider: support@hostworks.net · +1 800 555 0100</p>`,
    ),
  },
  {
    id: "P12-de-hier-entsteht",
    expect: "lead",
    domain: "physio-krause.de",
    html: pg(
      "de",
      "Physiotherapie Krause",
      `<h1>Hier entsteht eine neue Internetpräsenz</h1><p>Physiotherapie Krause · Tel. 0341 123456 · Markt 2, 04109 Leipzig</p>`,
    ),
  },
  {
    id: "P13-en-our-website-under-construction-p",
    expect: "lead",
    domain: "reed-roofing.com",
    html: pg(
      "en",
      "Reed Roofing",
      `<h1>Reed Roofing</h1><p>Our website is under construction. Call (317) 555-0142 or email info@reed-roofing.com</p>`,
    ),
  },
  {
    id: "P14-es-pagina-en-construccion-p",
    expect: "lead",
    domain: "taller-garcia.es",
    html: pg(
      "es",
      "Taller García",
      `<h1>Taller García</h1><p>Nuestra página web está en construcción. Tel. 91 555 12 34 · info@taller-garcia.es</p>`,
    ),
  },
  {
    id: "P15-sv-hemsidan-uppbyggnad-p",
    expect: "lead",
    domain: "el-svensson.se",
    html: pg(
      "sv",
      "El Svensson AB",
      `<h1>El Svensson AB</h1><p>Hemsidan är under uppbyggnad. Tel. 0470-123 456 · info@el-svensson.se</p>`,
    ),
  },
  {
    id: "P16-de-webseite-wird-ueberarbeitet-p",
    expect: "lead",
    domain: "optik-hahn.de",
    html: pg(
      "de",
      "Optik Hahn",
      `<h1>Optik Hahn</h1><p>Unsere Webseite wird gerade überarbeitet. Tel. 0511 123456 · Lange Laube 2, 30159 Hannover</p>`,
    ),
  },
];

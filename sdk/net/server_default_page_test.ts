import assert from "node:assert/strict";
import { serverDefaultPage } from "./server_default_page.ts";

Deno.test("server default pages are recognised by title, text or HTML; a business page is not", () => {
  const page = (p: Partial<{ title: string; text: string; html: string }>) => ({
    title: "",
    text: "",
    html: "",
    ...p,
  });
  assert.equal(serverDefaultPage(page({ title: "Welcome to nginx!" })), "nginx");
  assert.equal(serverDefaultPage(page({ title: "IIS Windows Server" })), "Microsoft IIS");
  assert.equal(
    serverDefaultPage(page({ html: '<a href="/cgi-sys/defaultwebpage.cgi">' })),
    "cPanel",
  );
  assert.equal(
    serverDefaultPage(page({ title: "Bäckerei Müller", text: "Frische Brötchen seit 1920" })),
    undefined,
  );
});

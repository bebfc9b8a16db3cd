import assert from "node:assert/strict";
import { collapseWhitespace, extractText, HtmlTextExtractor } from "./html_text.ts";

Deno.test("extractText keeps the title and visible text, drops scripts, styles and svg", () => {
  const html = `<html><head><title>Hello &amp; welcome</title><style>.a{}</style>
    <script>document.write("x")</script></head><body><svg><title>icon</title></svg>
    <div>One</div><div>Two&nbsp;three</div><noscript>js off</noscript><template>t</template>
    </body></html>`;
  assert.deepEqual(extractText(html), { title: "Hello & welcome", text: "One Two three" });
});

Deno.test("HtmlTextExtractor handles tags split across chunks and caps the text", () => {
  const x = new HtmlTextExtractor({ maxText: 20 });
  for (
    const piece of ["<tit", "le>Sp", "lit</title><p>aaaa ", "bbbb</p><p>", "cccc dddd eeee ffff"]
  ) {
    x.write(piece);
  }
  const { title, text } = x.end();
  assert.equal(title, "Split");
  assert.equal(text, "aaaa bbbb cccc dddd ");
  assert.ok(text.length <= 20);
  assert.equal(collapseWhitespace("  a \n\t b  "), "a b");
});

Deno.test("HtmlTextExtractor reports full once enough text is collected", () => {
  const x = new HtmlTextExtractor({ maxText: 10 });
  x.write("<p>" + "word ".repeat(10) + "</p>");
  assert.equal(x.full, true);
});

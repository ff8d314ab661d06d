/// The stylesheet and the one script, served from our own origin (the CSP allows nothing else).
enum Assets {
    /// Mobile-first; colours meet WCAG 2.2 AA contrast (text ≥ 4.5:1 on its background); focus is
    /// always visible.
    static let css = """
    :root { --ink: #1a1a1a; --muted: #4a4a4a; --paper: #ffffff; --brand: #0b5394; --brand-ink: #ffffff;
      --line: #c8c8c8; --alert: #a4000f; --alert-bg: #fdecee; --ok-bg: #e8f3ea; --ok: #1d5e2b; --focus: #ffbf47; }
    * { box-sizing: border-box; }
    html { font-family: system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", "PingFang SC", sans-serif;
      font-size: 100%; line-height: 1.5; color: var(--ink); background: var(--paper); }
    body { margin: 0; }
    a { color: var(--brand); }
    a:focus, button:focus, input:focus, select:focus, textarea:focus, summary:focus {
      outline: 3px solid var(--focus); outline-offset: 2px; }
    .skip { position: absolute; left: -9999px; top: 0; background: var(--paper); padding: .5rem 1rem; }
    .skip:focus { left: .5rem; z-index: 10; }
    header.top { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; padding: .75rem 1rem;
      background: var(--brand); color: var(--brand-ink); }
    header.top a { color: var(--brand-ink); }
    .brand { font-weight: 700; font-size: 1.125rem; text-decoration: none; margin-right: auto; }
    .lang { font-weight: 600; }
    button.link { background: none; border: 1px solid var(--brand-ink); color: var(--brand-ink); padding: .25rem .75rem;
      font: inherit; cursor: pointer; border-radius: .25rem; min-height: 2.25rem; }
    form.signout { margin: 0; }
    nav.menu ul { list-style: none; margin: 0; padding: .5rem 1rem; display: flex; flex-wrap: wrap; gap: .25rem 1rem;
      border-bottom: 1px solid var(--line); }
    nav.menu a { display: inline-block; padding: .5rem 0; min-height: 2.25rem; }
    nav.menu a[aria-current="page"] { font-weight: 700; color: var(--ink); }
    main { padding: 1rem; max-width: 48rem; margin: 0 auto; }
    h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
    h2 { font-size: 1.25rem; margin: 1.5rem 0 .5rem; }
    .field { margin: 0 0 1rem; }
    label, legend { display: block; font-weight: 600; margin-bottom: .25rem; }
    .hint { margin: 0 0 .25rem; color: var(--muted); font-size: .9375rem; }
    input[type=text], input[type=password], input[type=search], input[type=number], input:not([type]), select, textarea {
      width: 100%; padding: .625rem; font: inherit; border: 2px solid var(--muted); border-radius: .25rem; background: var(--paper); color: var(--ink); }
    textarea { min-height: 6rem; font-family: ui-monospace, monospace; font-size: .8125rem; word-break: break-all; }
    fieldset { border: 1px solid var(--line); padding: .75rem; margin: 0 0 1rem; }
    .check { display: flex; gap: .5rem; align-items: center; margin: .25rem 0; font-weight: 400; }
    .check input { width: 1.25rem; height: 1.25rem; }
    button, .button { display: inline-block; padding: .625rem 1.25rem; font: inherit; font-weight: 600; border: 0; border-radius: .25rem;
      background: var(--brand); color: var(--brand-ink); cursor: pointer; min-height: 2.75rem; text-decoration: none; }
    button.danger { background: var(--alert); }
    .alert { border-left: 5px solid var(--alert); background: var(--alert-bg); padding: .5rem 1rem; margin: 0 0 1rem; }
    .alert p { margin: .25rem 0; }
    .notice { border-left: 5px solid var(--ok); background: var(--ok-bg); padding: .75rem 1rem; margin: 0 0 1rem; }
    .code { color: var(--muted); font-size: .875rem; }
    .card { border: 1px solid var(--line); border-radius: .75rem; padding: 1rem; margin: 0 0 1rem;
      background: linear-gradient(135deg, #eef4fb, #ffffff); }
    .card h2 { margin-top: 0; }
    dl.facts { display: grid; grid-template-columns: fit-content(45%) 1fr; gap: .25rem 1rem; margin: 0; }
    dl.facts dt { font-weight: 600; color: var(--muted); }
    dl.facts dd { margin: 0; overflow-wrap: break-word; min-width: 0; }
    section form, main > form { margin-top: .75rem; }
    figure.qr { margin: 0 0 1rem; text-align: center; }
    figure.qr svg, figure.qr img { width: 100%; max-width: 22rem; height: auto; image-rendering: pixelated; }
    figcaption { color: var(--muted); font-size: .9375rem; text-align: left; }
    table { width: 100%; border-collapse: collapse; margin: 0 0 1rem; }
    caption { text-align: left; font-weight: 600; padding: .25rem 0; }
    th, td { text-align: left; padding: .5rem .25rem; border-bottom: 1px solid var(--line); vertical-align: top; }
    td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
    .status { font-weight: 600; }
    ul.plain { padding-left: 1.25rem; }
    form.inline { display: inline; margin: 0; }
    form.inline button { padding: .375rem .75rem; min-height: 2.25rem; }
    .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
    .table-wrap { overflow-x: auto; }
    @media (min-width: 48rem) { main { padding: 1.5rem 2rem; } }
    """

    /// Renews the dynamic QR before it expires (every 90 s of its 120 s, and on return to the
    /// page) by reloading its image; without JavaScript the page's "New code" link does the same.
    static let ecardScript = """
    (function () {
      'use strict';
      var image = document.getElementById('dynamic-qr-image');
      if (!image) { return; }
      var base = image.getAttribute('data-src');
      var renewed = Date.now();
      function renew() { renewed = Date.now(); image.setAttribute('src', base + '?t=' + renewed); }
      setInterval(renew, 90000);
      document.addEventListener('visibilitychange', function () {
        if (document.visibilityState === 'visible' && Date.now() - renewed > 60000) { renew(); }
      });
    })();
    """
}

/// The portal's stylesheet and script, served as files under `/static/` (the Content Security
/// Policy allows no inline style or script). Mobile-first: one column from 320 px, wider
/// layouts from 48 rem. Colours meet WCAG AA contrast on their backgrounds.
enum PortalAssets {
    static let css = """
        *, *::before, *::after { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; font-size: 1rem; line-height: 1.5;
               color: #1b1f23; background: #f3f5f7; overflow-wrap: anywhere; }
        a { color: #0b5394; }
        a:focus-visible, button:focus-visible, input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
        .skip { position: absolute; left: -999px; top: 0; background: #fff; padding: .5rem 1rem; z-index: 10; }
        .skip:focus { left: .5rem; }
        header { background: #0b3d5c; color: #fff; }
        header a { color: #fff; }
        .bar { display: flex; flex-wrap: wrap; align-items: center; justify-content: space-between; gap: .5rem; padding: .6rem 1rem; }
        .brand { font-weight: 700; font-size: 1.25rem; text-decoration: none; }
        .account { display: flex; flex-wrap: wrap; align-items: center; gap: .75rem; font-size: .95rem; }
        .account .who { opacity: .95; }
        form.inline { display: inline; margin: 0; }
        button.link { background: none; border: 0; color: #fff; text-decoration: underline; padding: .25rem; margin: 0; font: inherit; cursor: pointer; min-height: 0; }
        nav ul { list-style: none; margin: 0; padding: 0 .5rem .5rem; display: flex; flex-wrap: wrap; gap: .25rem; }
        header nav a { display: inline-block; padding: .45rem .7rem; border-radius: .3rem; text-decoration: none; }
        header nav a[aria-current="page"] { background: #fff; color: #0b3d5c; font-weight: 600; }
        main { max-width: 60rem; margin: 0 auto; padding: 1rem; }
        main:focus { outline: none; }
        h1 { font-size: 1.5rem; margin: .5rem 0 1rem; }
        h2 { font-size: 1.2rem; margin: 0 0 .5rem; }
        h3, .h3 { font-size: 1.05rem; margin: 0 0 .25rem; }
        .card { background: #fff; border-radius: .5rem; padding: 1rem; margin: 0 0 1rem; box-shadow: 0 1px 3px rgba(0,0,0,.12); }
        .narrow { max-width: 28rem; }
        .stack label { display: block; margin-top: 1rem; font-weight: 600; }
        input[type=text], input[type=password], input[type=search] { width: 100%; padding: .6rem; font-size: 1rem; border: 1px solid #6b7785; border-radius: .3rem; }
        button { margin-top: 1rem; padding: .6rem 1.1rem; font-size: 1rem; border-radius: .3rem; border: 1px solid #0b3d5c; background: #0b3d5c; color: #fff; cursor: pointer; min-height: 2.75rem; }
        button.danger { background: #a40000; border-color: #a40000; }
        select { width: 100%; padding: .55rem; font-size: 1rem; border: 1px solid #6b7785; border-radius: .3rem; background: #fff; color: #1b1f23; }
        a:focus-visible, select:focus-visible, summary:focus-visible, input[type=checkbox]:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
        form.answer { display: inline-block; margin-right: .75rem; vertical-align: top; max-width: 100%; }
        details.narrowing { margin-top: .75rem; }
        details.narrowing summary { cursor: pointer; color: #0b5394; font-weight: 600; }
        details.narrowing label { display: block; margin-top: .5rem; font-weight: 600; }
        details.narrowing fieldset { border: 1px solid #c9d1d9; border-radius: .3rem; margin: .75rem 0 0; padding: .25rem .75rem .5rem; min-width: 0; }
        details.narrowing legend { font-weight: 600; padding: 0 .25rem; }
        details.narrowing label.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; margin: .35rem 0 0; }
        details.explain { margin: 0 0 1rem; }
        details.explain summary { cursor: pointer; color: #0b5394; font-weight: 600; }
        details.explain p { margin: .5rem 0; }
        .row { display: flex; gap: .5rem; align-items: flex-end; }
        .row input { flex: 1; min-width: 0; }
        .row button { margin-top: 0; }
        .error { color: #a40000; font-weight: 600; }
        textarea { width: 100%; padding: .6rem; font: inherit; border: 1px solid #6b7785; border-radius: .3rem; resize: vertical; }
        textarea:focus-visible, input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
        [aria-invalid="true"] { border-color: #a40000; border-width: 2px; }
        .stack fieldset { border: 1px solid #c9d1d9; border-radius: .3rem; margin: 1rem 0 0; padding: .25rem .75rem .5rem; min-width: 0; }
        .stack legend { font-weight: 600; padding: 0 .25rem; }
        .stack label.check { display: flex; gap: .5rem; align-items: center; font-weight: 400; margin: .35rem 0 0; }
        .stack .hint, .stack .error { margin: .25rem 0; }
        .error-summary { border: 2px solid #a40000; background: #fff; border-radius: .4rem; padding: .5rem 1rem; margin: 0 0 1rem; }
        .error-summary h2 { color: #a40000; }
        a.button { display: inline-block; padding: .6rem 1.1rem; border-radius: .3rem; background: #0b3d5c; color: #fff; text-decoration: none; font-weight: 600; }
        ul.suggestions { list-style: none; margin: .25rem 0 0; padding: 0; }
        ul.suggestions button.suggestion { display: block; width: 100%; margin: .15rem 0 0; text-align: left; background: #fff; color: #0b3d5c; border-color: #6b7785; }
        .error-summary a { color: #a40000; font-weight: 600; }
        .card.emergency { border-top: 4px solid #a40000; }
        .card.emergency h2 { color: #a40000; }
        ul.consequences { padding-left: 1.2rem; margin: .5rem 0; }
        blockquote.reason { margin: .5rem 0; padding: .5rem .75rem; border-left: 4px solid #a40000; background: #fff4f4; }
        .notice.emergency { background: #fff4f4; color: #7a0000; border-left: 4px solid #a40000; }
        .notice p { margin: .25rem 0; }
        .small { font-size: .9rem; }
        .btg-notices { border: 2px solid #a40000; background: #fff4f4; }
        .btg-notices h2 { color: #a40000; }
        .btg-notices li.btg-notice { background: #fff; box-shadow: none; border: 1px solid #e3b4b4; }
        p.ask { margin: 0 0 1rem; }
        .notice { background: #e6f4ea; color: #14532d; padding: .5rem .75rem; border-radius: .3rem; }
        .hint { color: #4a5561; font-size: .9rem; }
        .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, monospace; letter-spacing: .02em; }
        dl.facts { margin: 0; display: grid; grid-template-columns: 1fr; gap: .25rem .75rem; }
        dl.facts div { display: flex; flex-wrap: wrap; gap: .4rem; }
        dl.facts dt { font-weight: 600; color: #3a4450; }
        dl.facts dd { margin: 0; }
        ol.timeline, ol.accesses, ul.cards, ul.patients, ul.summary, ul.keys { list-style: none; margin: 0; padding: 0; }
        .entry { background: #fff; border-left: 4px solid #0b5394; border-radius: .4rem; padding: .75rem 1rem; margin: 0 0 .75rem; box-shadow: 0 1px 2px rgba(0,0,0,.1); }
        .entry.flagged { border-left-color: #b35c00; }
        .entry.btg { border-left-color: #a40000; background: #fff4f4; }
        .entry.refused { border-left-color: #6b7785; }
        .entry .when { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; font-size: .9rem; color: #3a4450; margin-bottom: .25rem; }
        .entry .what p { margin: .15rem 0; }
        .kind { background: #e8eef4; color: #0b3d5c; border-radius: 1rem; padding: 0 .6rem; font-size: .85rem; }
        .source { font-size: .9rem; color: #3a4450; }
        .source .label { font-weight: 600; }
        .badge { display: inline-block; border-radius: 1rem; padding: 0 .6rem; font-size: .85rem; font-weight: 600; margin: 0; }
        .badge.ok { background: #e6f4ea; color: #14532d; cursor: help; }
        .badge.warn { background: #fff1dc; color: #7a3e00; }
        .badge.btg { background: #a40000; color: #fff; margin-bottom: .35rem; }
        .sig-ok, .sig-none, .sig-bad { display: inline-block; border: 1px solid; border-radius: .3rem; padding: .05rem .45rem; font-weight: 600; white-space: normal; }
        .sig-ok { background: #e6f4ea; color: #14532d; border-color: #14532d; }
        .sig-ok::before { content: "\\2713\\00a0"; }
        .sig-none { background: #f3f5f7; color: #3a4450; border-color: #6b7785; border-style: dashed; }
        .sig-none::before { content: "\\2013\\00a0"; }
        .sig-bad { background: #fff4f4; color: #7a0000; border: 2px solid #a40000; }
        .sig-bad::before { content: "\\2717\\00a0"; }
        .filters ul { padding: 0 0 .5rem; }
        .filters a { display: inline-block; padding: .3rem .6rem; border: 1px solid #0b5394; border-radius: 1rem; text-decoration: none; font-size: .9rem; }
        .filters a[aria-current="true"] { background: #0b5394; color: #fff; }
        .pages ul { padding: .75rem 0; gap: .5rem; }
        .pages a { display: inline-block; padding: .6rem 1.1rem; border: 1px solid #0b5394; border-radius: .3rem; text-decoration: none; font-weight: 600; }
        ul.patients li { background: #fff; padding: .75rem 1rem; margin-bottom: .5rem; border-radius: .4rem; }
        ul.actions { padding-left: 1.2rem; }
        ul.summary li { padding: .25rem 0; border-bottom: 1px solid #e3e7eb; }
        footer { max-width: 60rem; margin: 0 auto; padding: 1rem; color: #4a5561; font-size: .85rem; }
        @media (min-width: 48rem) {
          dl.facts { grid-template-columns: 1fr 1fr; }
          .entry { display: grid; grid-template-columns: 11rem 1fr; gap: 1rem; }
          .entry .when { flex-direction: column; align-items: flex-start; }
        }
        @media print {
          header, footer, .no-print, .skip { display: none; }
          body { background: #fff; }
          .card, .entry { box-shadow: none; border: 1px solid #999; break-inside: avoid; }
        }
        """

    /// A link of two rings, the portal's icon.
    static let icon = """
        <svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="6" fill="#0b3d5c"/>\
        <circle cx="12" cy="16" r="6" fill="none" stroke="#fff" stroke-width="3"/><circle cx="20" cy="16" r="6" fill="none" stroke="#f0b400" stroke-width="3"/></svg>
        """

    static let js = """
        "use strict";
        document.addEventListener("click", function (event) {
          var target = event.target;
          if (!(target instanceof Element)) { return; }
          var print = target.closest("[data-action=print]");
          if (print) { window.print(); return; }
          var confirmButton = target.closest("button[data-confirm]");
          if (confirmButton && !window.confirm(confirmButton.getAttribute("data-confirm"))) { event.preventDefault(); }
        });
        """
}

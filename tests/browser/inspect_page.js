// Runs in the page (Playwright's page.evaluate): collects what sitecheck.py analyses.
// Returns a JSON-able object; see SiteChecker.analyse for how each field is judged.
async () => {
  const out = {};
  // wait for MathJax, if the page loads it, to finish typesetting (bounded)
  const mj = window.MathJax;
  out.mathjaxScript = !!document.querySelector('script[src*="mathjax" i], script[src*="tex-chtml" i]');
  out.mathjaxLoaded = !!(mj && mj.startup && mj.startup.promise);
  if (out.mathjaxLoaded) {
    const timeout = new Promise(resolve => setTimeout(() => resolve('timeout'), 15000));
    out.mathjaxDone = (await Promise.race([mj.startup.promise.then(() => 'done'), timeout])) === 'done';
  }
  // images: wait for every <img> to settle (bounded), then read naturalWidth
  const imgs = Array.from(document.images);
  await Promise.race([
    Promise.all(imgs.map(im => im.complete ? null : new Promise(r => { im.onload = im.onerror = r; }))),
    new Promise(r => setTimeout(r, 10000)),
  ]);
  out.images = imgs.map(im => ({src: im.currentSrc || im.getAttribute('src') || '', rawSrc: im.getAttribute('src') || '',
                                 alt: im.getAttribute('alt'), ok: im.complete && im.naturalWidth > 0, width: im.naturalWidth}));
  // content figures: corner pixels (is the background opaque, and which colour?) and the CSS filter on them
  out.figurePixels = imgs.filter(im => im.closest('main, article, .bd-article') && im.naturalWidth > 1).map(im => {
    const c = document.createElement('canvas');
    c.width = im.naturalWidth; c.height = im.naturalHeight;
    const ctx = c.getContext('2d');
    ctx.drawImage(im, 0, 0);
    const px = (x, y) => Array.from(ctx.getImageData(x, y, 1, 1).data);
    // one pixel inside each corner: an SVG whose size is not a whole number of pixels antialiases its edge rows
    const w = Math.max(im.naturalWidth - 2, 0), h = Math.max(im.naturalHeight - 2, 0), i = im.naturalWidth > 2 ? 1 : 0;
    return {src: im.getAttribute('src'), corners: [px(i, i), px(w, i), px(i, h), px(w, h)], filter: getComputedStyle(im).filter};
  });
  out.pageBackground = getComputedStyle(document.body).backgroundColor;
  out.theme = document.documentElement.dataset.theme || '';
  // math: elements Sphinx marked as math, and whether MathJax replaced them
  const math = Array.from(document.querySelectorAll('.math'));
  out.mathCount = math.length;
  out.mathUnrendered = math.filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.trim().slice(0, 80));
  out.mathRendered = document.querySelectorAll('mjx-container').length;
  out.mathErrors = Array.from(document.querySelectorAll('mjx-merror')).map(el => (el.getAttribute('data-mjx-error') || el.textContent).slice(0, 80));
  // text outside code, scripts and typeset math
  const skip = 'pre, code, script, style, textarea, mjx-container, .highlight, .cell_input, .output';
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const texts = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(skip)) continue;
    const t = n.textContent;
    if (t && t.trim()) texts.push(t);
  }
  out.text = texts.join('\n');
  // cell outputs
  out.outputs = Array.from(document.querySelectorAll('.cell_output, div.output')).filter(
    el => !(el.parentElement && el.parentElement.closest('.cell_output, div.output'))).map(el => ({
    classes: el.className, text: el.innerText.slice(0, 4000)}));
  out.errorOutputs = Array.from(document.querySelectorAll('.output.traceback, .output.stderr, .output.error, .cell_output .stderr')).map(
    el => el.className);
  // links
  out.links = Array.from(document.querySelectorAll('a[href]')).map(a => ({
    href: a.getAttribute('href'), abs: a.href, text: a.textContent.trim().slice(0, 80),
    classes: a.className, inNav: !!a.closest('nav, .bd-sidebar, .bd-header, header, footer')}));
  // unresolved cross-references: an .xref that is not inside a link
  out.unresolved = Array.from(document.querySelectorAll('.xref')).filter(el => !el.closest('a')).map(
    el => ({text: el.textContent.trim().slice(0, 80), classes: el.className}));
  // equation and figure numbers
  out.equations = Array.from(document.querySelectorAll('[id^="equation-"]')).map(el => {
    const eqno = el.querySelector('.eqno');
    return {id: el.id, number: eqno ? eqno.firstChild && eqno.firstChild.textContent.trim() : null};
  });
  out.figures = Array.from(document.querySelectorAll('figure[id], div.figure[id]')).map(el => {
    const num = el.querySelector('.caption-number');
    return {id: el.id, number: num ? num.textContent.trim() : null, hasCaption: !!el.querySelector('figcaption, .caption')};
  });
  out.refs = Array.from(document.querySelectorAll('a.reference.internal')).filter(
    a => /#(equation-|fig-)/.test(a.getAttribute('href') || '') && !a.closest('nav, .bd-sidebar, .bd-toc, .headerlink')
      && !a.classList.contains('headerlink')).map(a => ({href: a.getAttribute('href'), text: a.textContent.trim()}));
  // download button
  const dl = document.querySelector('a.btn-download-notebook-button, a[href$=".ipynb"]');
  out.ipynb = dl ? dl.href : null;
  out.isNotebook = !!document.querySelector('.cell, .cell_output, div.cell');
  return out;
}

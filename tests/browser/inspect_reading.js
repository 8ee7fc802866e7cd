// Runs in the page (Playwright's page.evaluate): the layout facts of the reading path.
// Returns a JSON-able object; readingcheck.py judges it (targets, messages).
async () => {
  const out = {};
  // wait for MathJax and the images, as inspect_page.js does (bounded)
  const mj = window.MathJax;
  if (mj && mj.startup && mj.startup.promise) {
    await Promise.race([mj.startup.promise, new Promise(r => setTimeout(r, 15000))]);
  }
  const imgs = Array.from(document.images);
  await Promise.race([
    Promise.all(imgs.map(im => im.complete ? null : new Promise(r => { im.onload = im.onerror = r; }))),
    new Promise(r => setTimeout(r, 10000)),
  ]);
  const article = document.querySelector('article.bd-article') || document.querySelector('main') || document.body;
  const visible = el => {
    if (!el) return false;
    if (el.checkVisibility && !el.checkVisibility({checkOpacity: true, checkVisibilityCSS: true})) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const short = (s, n) => (s || '').replace(/\s+/g, ' ').trim().slice(0, n || 60);
  out.viewport = {width: window.innerWidth, height: window.innerHeight};
  out.articleHeight = article.getBoundingClientRect().height;
  out.articleWidth = article.getBoundingClientRect().width;
  out.pageScrollWidth = document.documentElement.scrollWidth;
  out.bodyFontPx = parseFloat(getComputedStyle(article).fontSize);

  // code cells: which inputs are visible, how tall, and do they overflow sideways
  const cells = Array.from(article.querySelectorAll('div.cell'));
  const cellLabel = (cell, k) => {
    const m = /^nb-cell-(\d+)$/.exec(cell.id || '');
    return m ? `cell [${m[1]}]` : `code cell #${k + 1} of the page`;
  };
  out.cells = cells.map((cell, k) => {
    const input = cell.querySelector('.cell_input');
    const pre = input ? input.querySelector('pre') : null;
    const shown = visible(input);
    return {
      label: cellLabel(cell, k),
      visible: shown,
      height: shown ? input.getBoundingClientRect().height : 0,
      overflowPx: shown && pre ? pre.scrollWidth - pre.clientWidth : 0,
      firstLine: pre ? short(pre.textContent.split('\n').find(l => l.trim()) || '', 60) : '',
      check: cell.classList.contains('tag_check'),
    };
  });

  // display equations: the typeset width against the width of their box (less the number)
  out.equations = Array.from(article.querySelectorAll('div.math')).map((div, k) => {
    const math = div.querySelector('mjx-container mjx-math') || div.querySelector('mjx-container');
    const eqno = div.querySelector('.eqno');
    const number = eqno ? short(eqno.firstChild ? eqno.firstChild.textContent : eqno.textContent, 20) : '';
    const box = div.clientWidth;
    const numberWidth = eqno && visible(eqno) ? eqno.getBoundingClientRect().width : 0;
    const width = math ? math.getBoundingClientRect().width : 0;
    let tex = '';
    try {
      const items = window.MathJax.startup.document.getMathItemsWithin(div);
      tex = items && items.length ? short(items[0].math, 50) : '';
    } catch (e) { tex = ''; }
    return {label: number ? `equation ${number}` : (div.id ? `equation #${div.id}` : `display equation #${k + 1}`),
            id: div.id, width, box, numberWidth, tex, visible: visible(div)};
  });

  // figures: shown width against natural width (an <img>'s width attribute or style, else its pixels)
  const figLabel = el => {
    const fig = el.closest('figure, div.figure');
    if (fig) {
      const num = fig.querySelector('.caption-number');
      const name = num ? short(num.textContent, 20) : '';
      return (name || 'figure') + (fig.id ? ` (#${fig.id})` : '');
    }
    const cell = el.closest('div.cell');
    return cell ? `an output of ${cellLabel(cell, cells.indexOf(cell))}` : 'an image';
  };
  const lengthPx = v => {
    const m = /^([0-9.]+)\s*(px|pt)?$/.exec((v || '').trim());
    if (!m) return null;
    return parseFloat(m[1]) * (m[2] === 'pt' ? 96 / 72 : 1);
  };
  out.figures = [];
  for (const im of article.querySelectorAll('img')) {
    if (!visible(im) || im.naturalWidth < 50) continue;
    const declared = lengthPx(im.style.width) || lengthPx(im.getAttribute('width'));
    out.figures.push({label: figLabel(im), src: im.getAttribute('src'), shown: im.getBoundingClientRect().width,
                      natural: declared || im.naturalWidth});
  }
  for (const svg of article.querySelectorAll('.lrt-frame > svg')) {
    if (!visible(svg)) continue;
    const natural = lengthPx(svg.getAttribute('width'));
    if (natural) out.figures.push({label: figLabel(svg) + ' (slider frame)', src: '', shown: svg.getBoundingClientRect().width, natural});
  }

  // sliders: their ids and what they show now
  out.sliders = Array.from(article.querySelectorAll('.lrt-slider')).map(s => ({
    id: s.id, frames: s.querySelectorAll('.lrt-frame').length, current: s.getAttribute('data-current'),
    label: figLabel(s)}));

  // solutions: nothing but the title may be visible before the toggle is opened
  out.solutions = Array.from(article.querySelectorAll('.solution')).map((sol, k) => {
    const title = sol.querySelector('.admonition-title');
    const name = title ? short(title.textContent, 50) : `solution #${k + 1}`;
    const leaks = [];
    for (const child of sol.children) {
      if (child === title || child.classList.contains('admonition-title')) continue;
      if (visible(child)) leaks.push(short(child.innerText || child.textContent, 50));
    }
    // the old pattern: the solution's code cell right after the dropdown, outside it
    let next = sol.nextElementSibling;
    const after = next && next.matches('div.cell') && visible(next.querySelector('.cell_input'))
      ? cellLabel(next, cells.indexOf(next)) : null;
    return {label: name, leaks, codeAfter: after};
  });

  // prose: the text of each block outside code, math, outputs and navigation (code and math become a space)
  const drop = 'script, style, textarea, nav, .headerlink, .toctree-wrapper, .bd-toc, .prev-next-area, .lrt-slider, .cell_output, .output';
  const blank = 'pre, code, mjx-container, .highlight, .cell_input, .math';
  const blocks = new Map();
  const walker = document.createTreeWalker(article, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const p = n.parentElement;
    if (!p || p.closest(drop)) continue;
    const block = p.closest('p, li, td, th, dd, dt, figcaption, h1, h2, h3, h4, h5, caption, .admonition-title') || p;
    if (!blocks.has(block)) {
      const section = block.closest('section[id]');
      blocks.set(block, {text: '', section: section ? section.id : ''});
    }
    blocks.get(block).text += p.closest(blank) ? ' ' : n.textContent;
  }
  out.prose = Array.from(blocks.values()).filter(b => b.text.trim());

  // the widest elements, for a page that scrolls sideways
  out.wide = [];
  if (out.pageScrollWidth > window.innerWidth + 1) {
    for (const el of document.querySelectorAll('body *')) {
      const r = el.getBoundingClientRect();
      if (r.right > window.innerWidth + 1 && r.width > 0 && getComputedStyle(el).position !== 'fixed') {
        const ancestorsScroll = (() => { for (let a = el.parentElement; a; a = a.parentElement) {
          const o = getComputedStyle(a).overflowX; if (o === 'auto' || o === 'scroll' || o === 'hidden') return true; } return false; })();
        if (!ancestorsScroll) out.wide.push(`${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} (${Math.round(r.right)} px)`);
        if (out.wide.length >= 5) break;
      }
    }
  }

  // the download: how many figures the page shows (the notebook should show them too)
  const dl = document.querySelector('a.btn-download-notebook-button, a[href$=".ipynb"]');
  out.ipynb = dl ? dl.href : null;
  out.figureCount = article.querySelectorAll('figure img, div.figure img, .lrt-slider, .cell_output img').length;
  return out;
}

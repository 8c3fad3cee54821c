// MathJax 3 settings for this book, read before tex-svg-full.js loads.
//
// mdBook turns the chapters' \\( \\) and \\[ \\] into \( \) and \[ \], MathJax's own
// delimiters. SVG output draws every glyph as a path, so no web font is ever fetched, and
// the "full" bundle already holds every TeX extension, so nothing else is loaded either:
// the book's maths renders with no network at all.
window.MathJax = {
  tex: {
    inlineMath: [['\\(', '\\)']],
    displayMath: [['\\[', '\\]']],
    // An unknown macro is an error (which the browser check finds), not red text.
    packages: { '[-]': ['noundefined'] },
  },
  svg: {
    fontCache: 'global',
  },
  options: {
    // Never typeset inside code listings.
    skipHtmlTags: ['script', 'noscript', 'style', 'textarea', 'pre', 'code'],
  },
};

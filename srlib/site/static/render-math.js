// Typeset $...$, $$...$$, \(...\) and \[...\] with the local KaTeX; code, outputs' <pre> and widgets are left alone.
renderMathInElement(document.body, {
  delimiters: [
    { left: "$$", right: "$$", display: true },
    { left: "\\[", right: "\\]", display: true },
    { left: "$", right: "$", display: false },
    { left: "\\(", right: "\\)", display: false },
  ],
  ignoredClasses: ["srlib-widget", "jp-RenderedText"],
  throwOnError: false,
});

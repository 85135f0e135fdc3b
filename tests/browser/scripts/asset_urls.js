() => Array.from(
  document.querySelectorAll("link[href], script[src], img[src], source[src], iframe[src]"),
  (element) => element.href || element.src,
)

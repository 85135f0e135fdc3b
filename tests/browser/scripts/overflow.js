() => {
  const root = document.documentElement;
  const wide = [];
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width > 0 && box.right > root.clientWidth + 1) {
      // A box inside a scrolling container (a wide table) is allowed.
      let parent = element.parentElement;
      let scrolls = false;
      while (parent && parent !== document.body) {
        const overflow = getComputedStyle(parent).overflowX;
        if (overflow === "auto" || overflow === "scroll" || overflow === "hidden") {
          scrolls = true;
          break;
        }
        parent = parent.parentElement;
      }
      if (!scrolls) wide.push(element.tagName.toLowerCase() + "." + element.className);
    }
  }
  return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, wide: wide.slice(0, 5)};
}

() => {
  const problems = [];
  const count = (selector) => document.querySelectorAll(selector).length;

  for (const [selector, name] of [
    ["header.site-header, [role=banner]", "banner"],
    ["main, [role=main]", "main"],
    ["footer, [role=contentinfo]", "contentinfo"],
  ]) {
    if (count(selector) !== 1) problems.push(`${count(selector)} ${name} landmarks`);
  }
  if (count("nav[aria-label], nav[aria-labelledby]") < 1) {
    problems.push("no labelled navigation");
  }
  if (count("h1") !== 1) problems.push(`${count("h1")} h1 headings`);

  let level = 0;
  for (const heading of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const next = Number(heading.tagName[1]);
    if (next > level + 1) {
      problems.push(`heading h${next} "${heading.textContent.trim()}" after h${level}`);
    }
    level = next;
  }

  const controls = document.querySelectorAll(
    "input:not([type=hidden]):not([type=submit]):not([type=button]), select, textarea"
  );
  for (const control of controls) {
    const named = (control.labels && control.labels.length > 0)
      || control.getAttribute("aria-label")
      || control.getAttribute("aria-labelledby");
    if (!named) problems.push(`${control.tagName.toLowerCase()}#${control.id} has no label`);
  }
  for (const control of document.querySelectorAll("[aria-describedby]")) {
    for (const id of control.getAttribute("aria-describedby").split(/\s+/)) {
      if (!document.getElementById(id)) problems.push(`aria-describedby names missing #${id}`);
    }
  }
  for (const element of document.querySelectorAll("a, button")) {
    if (!element.textContent.trim() && !element.getAttribute("aria-label")
        && !element.querySelector("img[alt]")) {
      problems.push(`${element.tagName.toLowerCase()} without text`);
    }
  }

  const channel = (value) => {
    const c = value / 255;
    return c <= 0.03928 ? c / 12.92 : Math.pow((c + 0.055) / 1.055, 2.4);
  };
  const parse = (color) => {
    const parts = color.match(/[\d.]+/g).map(Number);
    return {r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1};
  };
  const luminance = (c) => 0.2126 * channel(c.r) + 0.7152 * channel(c.g) + 0.0722 * channel(c.b);
  const background = (element) => {
    for (let node = element; node; node = node.parentElement) {
      const color = parse(getComputedStyle(node).backgroundColor);
      if (color.a > 0.5) return color;
    }
    return {r: 255, g: 255, b: 255, a: 1};
  };

  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const checked = new Set();
  while (walker.nextNode()) {
    const element = walker.currentNode.parentElement;
    if (!walker.currentNode.textContent.trim() || checked.has(element)) continue;
    checked.add(element);
    const box = element.getBoundingClientRect();
    const style = getComputedStyle(element);
    if (box.width <= 1 || box.height <= 1 || style.visibility === "hidden") continue;
    if (element.closest(".skip-link, [hidden], .visually-hidden")) continue;

    const front = luminance(parse(style.color));
    const back = luminance(background(element));
    const ratio = (Math.max(front, back) + 0.05) / (Math.min(front, back) + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      problems.push(`contrast ${ratio.toFixed(2)} on "${element.textContent.trim().slice(0, 30)}"`);
    }
  }
  return problems;
}

() => {
  const element = document.activeElement;
  if (!element || element === document.body) return null;
  const style = getComputedStyle(element);
  return {
    tag: element.tagName.toLowerCase(),
    text: (element.innerText || element.value || "").trim(),
    label: element.labels && element.labels.length ? element.labels[0].innerText.trim() : "",
    href: element.getAttribute("href") || "",
    outline: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 2,
  };
}

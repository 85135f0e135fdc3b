() => {
  const found = [];
  for (const script of document.querySelectorAll("script")) {
    if (!script.src) found.push("inline <script>");
  }
  for (const style of document.querySelectorAll("style")) found.push("<style> element");
  for (const element of document.querySelectorAll("*")) {
    for (const attribute of element.attributes) {
      if (attribute.name === "style" || attribute.name.startsWith("on")) {
        found.push(`${element.tagName.toLowerCase()} ${attribute.name}=`);
      }
    }
    for (const name of ["href", "src", "action", "formaction"]) {
      const value = element.getAttribute(name) || "";
      if (value.trim().toLowerCase().startsWith("javascript:")) {
        found.push(`${element.tagName.toLowerCase()} ${name}=javascript:`);
      }
    }
  }
  return found;
}

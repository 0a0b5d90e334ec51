/**
 * The one DOM helper both pages' scripts use: `el(tag, attributes, children)` builds an element,
 * `text` setting its text (never HTML), other attributes as given, children appended in order.
 */
export const ELEMENT_FUNCTION = String.raw`
  function el(tag, attributes, children) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      if (name === "text") node.textContent = attributes[name];
      else node.setAttribute(name, attributes[name]);
    });
    (children || []).forEach(function (child) { if (child) node.appendChild(child); });
    return node;
  }
`

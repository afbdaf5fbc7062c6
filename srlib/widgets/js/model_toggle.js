// srlib model_toggle: every image stacked in one place, one visible; buttons or number keys 1..N flip between them.

export default {
  render({ model, el }) {
    const names = model.get("names");
    const texts = model.get("texts");
    const [h, w] = model.get("size");
    const urls = model.get("images").map(imageUrl);
    const root = make("div", "srlib-widget", { "data-widget": "model_toggle", tabindex: "-1" });
    const bar = make("div", "srlib-buttons", { role: "group", "aria-label": "image shown (keys 1 to 9)" });
    const stack = make("div", "srlib-stack");
    stack.style.width = `${model.get("width") || w}px`;
    stack.style.aspectRatio = `${w} / ${h}`;
    const status = make("div", "srlib-status", { "aria-live": "polite" });
    const buttons = names.map((name, i) => {
      const b = make("button", "", { type: "button", "aria-pressed": "false", "aria-label": `show ${name} (key ${i + 1})` });
      b.textContent = name;
      b.addEventListener("click", () => choose(i, true));
      return b;
    });
    const imgs = names.map((name, i) => make("img", "srlib-hidden", { src: urls[i], alt: name, draggable: "false" }));
    bar.append(...buttons);
    stack.append(...imgs);
    root.append(bar, stack, status);
    el.append(root);
    keepKeys(root);

    let index = -1;
    function choose(i, save) {
      i = Math.min(Math.max(i, 0), names.length - 1);
      if (i !== index) {
        index = i;
        imgs.forEach((img, j) => img.classList.toggle("srlib-hidden", j !== i));
        buttons.forEach((b, j) => b.setAttribute("aria-pressed", String(j === i)));
        status.textContent = texts[i] ?? names[i];
      }
      if (save && model.get("index") !== i) {
        model.set("index", i);
        model.save_changes();
      }
    }
    function key(event) {
      const n = Number(event.key);
      if (!Number.isInteger(n) || n < 1 || n > names.length || event.ctrlKey || event.metaKey || event.altKey) return;
      event.preventDefault();
      choose(n - 1, true);
      buttons[n - 1].focus({ preventScroll: true });
    }
    const changed = () => choose(model.get("index"), false);
    root.addEventListener("keydown", key);
    stack.addEventListener("pointerdown", () => root.focus({ preventScroll: true }));
    model.on("change:index", changed);
    choose(model.get("index"), false);
    return () => {
      model.off("change:index", changed);
      urls.forEach((u) => URL.revokeObjectURL(u));
      root.remove();
    };
  },
};

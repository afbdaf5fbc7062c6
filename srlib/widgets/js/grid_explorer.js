// srlib grid_explorer: one row of buttons per axis picks a precomputed run; fixed reference images beside it.

export default {
  render({ model, el }) {
    const axes = model.get("axes");
    const cells = model.get("cells");
    const titles = model.get("titles");
    const captions = model.get("captions");
    const [h, w] = model.get("size");
    const width = `${model.get("width") || w}px`;
    const urls = model.get("images").map(imageUrl);
    const fixedUrls = model.get("fixed").map(imageUrl);
    const root = make("div", "srlib-widget", { "data-widget": "grid_explorer" });
    const rows = axes.map((axis, a) => {
      const bar = make("div", "srlib-buttons", { role: "group", "aria-label": axis.name });
      const name = make("span");
      name.textContent = axis.name;
      const buttons = axis.values.map((v, i) => {
        const b = make("button", "", { type: "button", "aria-pressed": "false", "aria-label": `${axis.name} = ${v}` });
        b.textContent = v;
        b.addEventListener("click", () => choose(a, i, true));
        return b;
      });
      bar.append(name, ...buttons);
      root.append(bar);
      return buttons;
    });

    const panel = (title, stackChildren) => {
      const cell = make("div");
      const caption = make("div", "srlib-caption");
      caption.textContent = title;
      const stack = make("div", "srlib-stack");
      stack.style.width = width;
      stack.style.aspectRatio = `${w} / ${h}`;
      stack.append(...stackChildren);
      cell.append(caption, stack);
      return { cell, caption };
    };
    const imgs = urls.map((u, j) => make("img", "srlib-hidden", { src: u, alt: `run with ${captions[cells.indexOf(j)]}`, draggable: "false" }));
    const main = panel("", imgs);
    const row = make("div", "srlib-row");
    row.append(main.cell);
    model.get("fixed_names").forEach((name, i) => {
      row.append(panel(name, [make("img", "", { src: fixedUrls[i], alt: name, draggable: "false" })]).cell);
    });
    const status = make("div", "srlib-status", { "aria-live": "polite" });
    root.append(row, status);
    el.append(root);
    keepKeys(root);

    let selection = [...model.get("selection")];
    function draw() {
      let cell = 0;
      selection.forEach((i, a) => { cell = cell * axes[a].values.length + i; });
      const run = cells[cell];
      imgs.forEach((img, j) => img.classList.toggle("srlib-hidden", j !== run));
      rows.forEach((buttons, a) => buttons.forEach((b, i) => b.setAttribute("aria-pressed", String(i === selection[a]))));
      main.caption.textContent = titles[cell];
      status.textContent = captions[cell];
    }
    function choose(a, i, save) {
      selection[a] = i;
      draw();
      if (save) {
        model.set("selection", [...selection]);
        model.save_changes();
      }
    }
    const changed = () => { selection = [...model.get("selection")]; draw(); };
    model.on("change:selection", changed);
    draw();
    return () => {
      model.off("change:selection", changed);
      [...urls, ...fixedUrls].forEach((u) => URL.revokeObjectURL(u));
      root.remove();
    };
  },
};

// srlib before_after: two stacked images, the left one clipped at the split; drag or arrow keys move it.

export default {
  render({ model, el }) {
    const [leftName, rightName] = model.get("names");
    const [h, w] = model.get("size");
    const urls = model.get("images").map(imageUrl);
    const root = make("div", "srlib-widget", { "data-widget": "before_after" });
    const caption = make("div", "srlib-caption");
    caption.textContent = `◀ ${leftName}  |  ${rightName} ▶`;
    const surface = make("div", "srlib-stack srlib-drag");
    surface.style.width = `${model.get("width") || w}px`;
    surface.style.aspectRatio = `${w} / ${h}`;
    const right = make("img", "", { src: urls[1], draggable: "false" });
    const left = make("img", "", { src: urls[0], draggable: "false" });
    const line = make("div", "srlib-line");
    line.style.background = model.get("line_color");
    const handle = make("div", "srlib-handle", {
      role: "slider", tabindex: "0", "aria-valuemin": "0", "aria-valuemax": "100",
      "aria-label": `split between ${leftName} (left) and ${rightName} (right), in % of the width`,
    });
    handle.style.background = model.get("line_color");
    surface.append(right, left, line, handle);
    root.append(caption, surface);
    el.append(root);
    keepKeys(root);

    let position = model.get("position");
    function draw() {
      const split = Math.round((position / 100) * w);  // srlib.widgets.wipe's column
      left.style.clipPath = `inset(0 ${100 - (100 * split) / w}% 0 0)`;
      const lw = Math.min(model.get("line_width"), w);
      const c0 = Math.min(Math.max(split - Math.floor(lw / 2), 0), w - lw);
      line.style.display = lw > 0 ? "" : "none";
      line.style.left = `${(100 * c0) / w}%`;
      line.style.width = `${(100 * lw) / w}%`;
      handle.style.left = `${(100 * split) / w}%`;
      const shown = Math.round(position);
      handle.setAttribute("aria-valuenow", String(shown));
      handle.setAttribute("aria-valuetext", `${shown} %`);
      left.alt = `${leftName} (left of the split at ${shown} %)`;
      right.alt = `${rightName} (right of the split at ${shown} %)`;
    }
    function move(p, save) {
      position = Math.round(Math.min(Math.max(p, 0), 100) * 100) / 100;
      draw();
      if (save) {
        model.set("position", position);
        model.save_changes();
      }
    }
    function fromPointer(event) {
      const rect = surface.getBoundingClientRect();
      return (100 * (event.clientX - rect.left)) / rect.width;
    }

    let dragging = null;
    function down(event) {
      if (event.button !== 0) return;
      dragging = event.pointerId;
      surface.setPointerCapture(event.pointerId);
      move(fromPointer(event), false);
      handle.focus({ preventScroll: true });
      event.preventDefault();
    }
    function drag(event) {
      if (event.pointerId === dragging) move(fromPointer(event), false);
    }
    function up(event) {
      if (event.pointerId !== dragging) return;
      dragging = null;
      move(position, true);
    }
    function key(event) {
      const step = event.shiftKey ? 10 : 1;
      const to = { ArrowLeft: position - step, ArrowDown: position - step, ArrowRight: position + step,
                   ArrowUp: position + step, Home: 0, End: 100 }[event.key];
      if (to === undefined) return;
      event.preventDefault();
      move(to, true);
    }
    function changed() {
      if (model.get("position") !== position) move(model.get("position"), false);
    }
    surface.addEventListener("pointerdown", down);
    surface.addEventListener("pointermove", drag);
    surface.addEventListener("pointerup", up);
    surface.addEventListener("pointercancel", up);
    handle.addEventListener("keydown", key);
    model.on("change:position", changed);
    model.on("change:line_width", draw);
    draw();
    return () => {
      model.off("change:position", changed);
      model.off("change:line_width", draw);
      urls.forEach((u) => URL.revokeObjectURL(u));
      root.remove();
    };
  },
};

// srlib zoom_viewer: one region of every image, enlarged pixelated; drag pans and the wheel zooms all panels at once.

const MAX_ZOOM = 16;

export default {
  render({ model, el }) {
    const names = model.get("names");
    const [h, w] = model.get("size");
    const urls = model.get("images").map(imageUrl);
    const root = make("div", "srlib-widget", { "data-widget": "zoom_viewer" });
    const row = make("div", "srlib-row");
    let [cy, cx] = model.get("center");
    let zoom = model.get("zoom");

    // srlib.widgets.crop_box: a side x side box centred at (cy, cx), shifted inside the image
    function box() {
      const side = Math.max(1, Math.floor(model.get("panel") / zoom));
      const bh = Math.min(side, h), bw = Math.min(side, w);
      const top = Math.min(Math.max(Math.round(cy) - Math.floor(bh / 2), 0), h - bh);
      const left = Math.min(Math.max(Math.round(cx) - Math.floor(bw / 2), 0), w - bw);
      return { top, left, bh, bw };
    }

    let overviewBox = null;
    if (model.get("overview")) {
      const cell = make("div");
      const title = make("div", "srlib-caption");
      title.textContent = `${names[0]} (region)`;
      const over = make("div", "srlib-overview", {
        tabindex: "0", "aria-label": `overview of ${names[0]}: click or drag to move the region, arrow keys pan, + and - zoom`,
      });
      over.style.width = `${model.get("overview_width")}px`;
      const img = make("img", "srlib-smooth", { src: urls[0], alt: `${names[0]}, the whole image`, draggable: "false" });
      overviewBox = make("div", "srlib-box");
      overviewBox.style.borderColor = model.get("line_color");
      over.append(img, overviewBox);
      cell.append(title, over);
      row.append(cell);
      let pointer = null;
      const goTo = (event) => {
        const rect = over.getBoundingClientRect();
        cx = ((event.clientX - rect.left) / rect.width) * w;
        cy = ((event.clientY - rect.top) / rect.height) * h;
        draw();
      };
      over.addEventListener("pointerdown", (event) => {
        if (event.button !== 0) return;
        pointer = event.pointerId;
        over.setPointerCapture(pointer);
        goTo(event);
        event.preventDefault();
      });
      over.addEventListener("pointermove", (event) => event.pointerId === pointer && goTo(event));
      const end = (event) => {
        if (event.pointerId === pointer) { pointer = null; save(); }
      };
      over.addEventListener("pointerup", end);
      over.addEventListener("pointercancel", end);
      over.addEventListener("keydown", key);
    }

    const panels = names.map((name, i) => {
      const cell = make("div");
      const title = make("div", "srlib-caption");
      title.textContent = name;
      const panel = make("div", "srlib-zoom-panel", {
        tabindex: "0", "aria-label": `${name}: drag or arrow keys to pan, wheel or + and - to zoom`,
      });
      const img = make("img", "", { src: urls[i], draggable: "false" });
      panel.append(img);
      cell.append(title, panel);
      row.append(cell);
      return { name, panel, img };
    });

    const tools = make("div", "srlib-buttons");
    const out = make("button", "", { type: "button", "aria-label": "zoom out" });
    out.textContent = "−";
    const inn = make("button", "", { type: "button", "aria-label": "zoom in" });
    inn.textContent = "+";
    const status = make("span", "srlib-status", { "aria-live": "polite" });
    tools.append(out, inn, status);
    root.append(row, tools);
    el.append(root);
    keepKeys(root);

    function draw() {
      const side = Math.max(1, Math.floor(model.get("panel") / zoom));
      const half = (n) => Math.floor(Math.min(side, n) / 2);
      cy = Math.min(Math.max(cy, half(h)), h - Math.min(side, h) + half(h));  // keep the centre where the box can go
      cx = Math.min(Math.max(cx, half(w)), w - Math.min(side, w) + half(w));
      const { top, left, bh, bw } = box();
      const where = `region ${bw}×${bh} px at (x ${left}, y ${top})`;
      for (const { name, panel, img } of panels) {
        panel.style.width = `${bw * zoom}px`;
        panel.style.height = `${bh * zoom}px`;
        img.style.width = `${w * zoom}px`;
        img.style.height = `${h * zoom}px`;
        img.style.transform = `translate(${-left * zoom}px, ${-top * zoom}px)`;
        img.alt = `${name}, ${where}, ×${zoom}`;
      }
      if (overviewBox) {
        Object.assign(overviewBox.style, {
          top: `${(100 * top) / h}%`, left: `${(100 * left) / w}%`, height: `${(100 * bh) / h}%`, width: `${(100 * bw) / w}%`,
        });
      }
      status.textContent = `zoom ×${zoom}: ${where}`;
      out.disabled = zoom <= 1;
      inn.disabled = zoom >= MAX_ZOOM;
    }

    let timer = null;
    function save() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        model.set("center", [Math.round(cy), Math.round(cx)]);
        model.set("zoom", zoom);
        model.save_changes();
      }, 150);
    }
    function setZoom(z, fixY = cy, fixX = cx) {
      // keep the image point (fixY, fixX) where it is on screen
      z = Math.min(Math.max(z, 1), MAX_ZOOM);
      if (z === zoom) return;
      cy = fixY + ((cy - fixY) * zoom) / z;
      cx = fixX + ((cx - fixX) * zoom) / z;
      zoom = z;
      draw();
      save();
    }
    function key(event) {
      const { bw } = box();
      const step = Math.max(1, Math.round(bw / (event.shiftKey ? 2 : 8)));
      const pan = { ArrowLeft: [0, -step], ArrowRight: [0, step], ArrowUp: [-step, 0], ArrowDown: [step, 0] }[event.key];
      if (pan) {
        cy += pan[0];
        cx += pan[1];
        draw();
        save();
      } else if (event.key === "+" || event.key === "=") setZoom(zoom + 1);
      else if (event.key === "-" || event.key === "_") setZoom(zoom - 1);
      else return;
      event.preventDefault();
    }

    let drag = null;
    for (const { panel } of panels) {
      panel.addEventListener("pointerdown", (event) => {
        if (event.button !== 0) return;
        drag = { id: event.pointerId, x: event.clientX, y: event.clientY, cx, cy, panel };
        panel.setPointerCapture(event.pointerId);
        panel.classList.add("srlib-dragging");
        panel.focus({ preventScroll: true });
        event.preventDefault();
      });
      panel.addEventListener("pointermove", (event) => {
        if (!drag || event.pointerId !== drag.id) return;
        cx = drag.cx - (event.clientX - drag.x) / zoom;
        cy = drag.cy - (event.clientY - drag.y) / zoom;
        draw();
      });
      const end = (event) => {
        if (!drag || event.pointerId !== drag.id) return;
        panel.classList.remove("srlib-dragging");
        drag = null;
        save();
      };
      panel.addEventListener("pointerup", end);
      panel.addEventListener("pointercancel", end);
      panel.addEventListener("wheel", (event) => {
        event.preventDefault();
        const rect = panel.getBoundingClientRect();
        const { top, left } = box();
        setZoom(zoom + (event.deltaY < 0 ? 1 : -1),
                top + (event.clientY - rect.top) / zoom, left + (event.clientX - rect.left) / zoom);
      }, { passive: false });
      panel.addEventListener("keydown", key);
    }
    out.addEventListener("click", () => setZoom(zoom - 1));
    inn.addEventListener("click", () => setZoom(zoom + 1));

    function changed() {
      const [y, x] = model.get("center");
      if (y !== Math.round(cy) || x !== Math.round(cx)) [cy, cx] = [y, x];
      zoom = model.get("zoom");
      draw();
    }
    model.on("change:center", changed);
    model.on("change:zoom", changed);
    model.on("change:panel", draw);
    draw();
    return () => {
      clearTimeout(timer);
      model.off("change:center", changed);
      model.off("change:zoom", changed);
      model.off("change:panel", draw);
      urls.forEach((u) => URL.revokeObjectURL(u));
      root.remove();
    };
  },
};

// srlib interpolation_slider: precomputed frames stacked, the range input picks one; live mode asks the kernel
// (model.send) for the positions between them and shows the nearest precomputed frame until it answers.

const fmt = (a) => a.toFixed(2);

export default {
  render({ model, el }) {
    const [from, to] = model.get("labels");
    const alphas = model.get("alphas");
    const [h, w] = model.get("size");
    const live = model.get("live");
    const n = (alphas.length - 1) * (live ? model.get("fine") : 1);
    const urls = model.get("images").map(imageUrl);
    const root = make("div", "srlib-widget", { "data-widget": "interpolation_slider" });
    const caption = make("div", "srlib-caption");
    caption.textContent = `${from} (alpha = 0) ◀ ▶ ${to} (alpha = 1)`;
    const stack = make("div", "srlib-stack");
    stack.style.width = `${model.get("width") || w}px`;
    stack.style.aspectRatio = `${w} / ${h}`;
    const frames = new Map();  // alpha -> <img>
    const addFrame = (alpha, url) => {
      const img = make("img", "srlib-hidden", {
        src: url, draggable: "false", alt: `${from} (alpha = 0) to ${to} (alpha = 1): the frame at alpha = ${fmt(alpha)}`,
      });
      stack.append(img);
      frames.set(alpha, img);
    };
    alphas.forEach((a, i) => addFrame(a, urls[i]));
    const input = make("input", "", {
      type: "range", min: "0", max: "1", step: String(1 / n),
      "aria-label": `alpha, from ${from} (0) to ${to} (1)`,
    });
    input.style.width = `${Math.max(model.get("width") || w, 300)}px`;
    const status = make("div", "srlib-status", { "aria-live": "polite" });
    root.append(caption, stack, input, status);
    el.append(root);
    keepKeys(root);

    const snap = (v) => Math.round(Math.min(Math.max(Number(v), 0), 1) * n) / n;
    const nearest = (a) => alphas.reduce((best, b) => (Math.abs(b - a) < Math.abs(best - a) ? b : best));
    const find = (a) => [...frames.keys()].find((b) => Math.abs(b - a) < 1e-9);
    let alpha = null;
    let asked = null;  // the alpha the kernel is rendering
    let timer = null;

    function show(a, note = "") {
      const key = find(a) ?? nearest(a);
      frames.forEach((img, b) => img.classList.toggle("srlib-hidden", b !== key));
      status.textContent = find(a) !== undefined ? `alpha = ${fmt(a)}${note}`
        : `alpha = ${fmt(a)}: the nearest precomputed frame (alpha = ${fmt(key)}) is shown; a running kernel renders ${fmt(a)}`;
    }
    function ask() {
      if (asked !== null || find(alpha) !== undefined) return;
      asked = alpha;
      try {
        model.send({ type: "render", alpha });
      } catch (error) {  // no kernel (a static page): the nearest precomputed frame stays
        asked = null;
      }
    }
    function go(v, save) {
      alpha = snap(v);
      input.value = String(alpha);
      show(alpha);
      if (live && find(alpha) === undefined) {
        clearTimeout(timer);
        timer = setTimeout(ask, 120);
      }
      if (save && model.get("value") !== alpha) {
        model.set("value", alpha);
        model.save_changes();
      }
    }
    function reply(msg, buffers) {
      if (!msg || msg.alpha === undefined) return;
      asked = null;
      if (msg.type === "frame" && buffers && buffers.length) {
        const url = imageUrl(buffers[0]);
        urls.push(url);
        addFrame(msg.alpha, url);
        if (Math.abs(msg.alpha - alpha) < 1e-9) show(alpha, ` (rendered by the kernel in ${msg.seconds} s)`);
      } else if (msg.type === "error" && Math.abs(msg.alpha - alpha) < 1e-9) {
        status.textContent = msg.message;
        return;
      }
      ask();
    }
    const changed = () => {
      if (snap(model.get("value")) !== alpha) go(model.get("value"), false);
    };
    input.addEventListener("input", () => go(input.value, false));
    input.addEventListener("change", () => go(input.value, true));
    model.on("change:value", changed);
    model.on("msg:custom", reply);
    go(model.get("value"), false);
    return () => {
      clearTimeout(timer);
      model.off("change:value", changed);
      model.off("msg:custom", reply);
      urls.forEach((u) => URL.revokeObjectURL(u));
      root.remove();
    };
  },
};

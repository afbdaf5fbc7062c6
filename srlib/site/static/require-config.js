// anywidget's AMD module is a local file: embed-amd.js finds it here and never asks a CDN.
require.config({ paths: { anywidget: "lib/anywidget/index" } });

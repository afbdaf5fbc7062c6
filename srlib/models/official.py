"""The public ESRGAN and Real-ESRGAN weights, loaded into srlib's RRDBNet.

srlib's RRDBNet computes what the official networks compute (conv, RRDB body,
conv, two nearest x2 + conv + LeakyReLU(0.2), conv, conv; dense blocks and RRDBs
scaled by 0.2); only the module names differ. Two published layouts are read:

- ESRGAN (github.com/xinntao/ESRGAN, `RRDB_ESRGAN_x4.pth`, `RRDB_PSNR_x4.pth`): a bare
  state dict, `conv_first`, `RRDB_trunk.N.RDBk.convj`, `trunk_conv`, `upconv1/2`, `HRconv`, `conv_last`.
- BasicSR / Real-ESRGAN (`RealESRGAN_x4plus.pth`, ...): `{"params_ema": ..., "params": ...}`
  (EMA preferred, as Real-ESRGAN's inference does), `conv_first`, `body.N.rdbk.convj`,
  `conv_body`, `conv_up1/2`, `conv_hr`, `conv_last`. Its x2 models pixel-unshuffle the input
  by 2 and run the x4 network (`UnshuffleRRDBNet`).

The number of blocks, channels and growth come from the keys and shapes, so
`RealESRGAN_x4plus_anime_6B.pth` (6 blocks) loads too. Files are read with
`torch.load(weights_only=True)`; the 2018 ESRGAN files predate PyTorch's zip format
and are read as such. Nothing is downloaded: `OFFICIAL_WEIGHTS` says where each file is.
"""
from __future__ import annotations

import re
import zipfile
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import SrlibError
from .generators import RRDBNet
from .weights import _damaged, describe_mismatch, load_weights_file

# file name -> where to get it (text only: srlib never downloads weights)
OFFICIAL_WEIGHTS = {
    "RRDB_ESRGAN_x4.pth": "ESRGAN paper model: Google Drive folder "
                          "https://drive.google.com/drive/u/0/folders/17VYV_SoZZesU6mbxz2dMAIccSSlqLecY "
                          "(linked from https://github.com/xinntao/ESRGAN#test-models)",
    "RRDB_PSNR_x4.pth": "ESRGAN's PSNR-oriented model: same Google Drive folder as RRDB_ESRGAN_x4.pth",
    "ESRGAN_SRx4_DF2KOST_official-ff704c30.pth":
        "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.1/ESRGAN_SRx4_DF2KOST_official-ff704c30.pth",
    "RealESRGAN_x4plus.pth": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.0/RealESRGAN_x4plus.pth",
    "RealESRNet_x4plus.pth": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.1.1/RealESRNet_x4plus.pth",
    "RealESRGAN_x4plus_anime_6B.pth":
        "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.2.4/RealESRGAN_x4plus_anime_6B.pth",
    "RealESRGAN_x2plus.pth": "https://github.com/xinntao/Real-ESRGAN/releases/download/v0.2.1/RealESRGAN_x2plus.pth",
}

# srlib name of a block's conv j (0-based) in dense block k of RRDB n, from each layout's name
_BLOCK = {"esrgan": re.compile(r"RRDB_trunk\.(\d+)\.RDB([123])\.conv([1-5])\.(weight|bias)$"),
          "basicsr": re.compile(r"body\.(\d+)\.rdb([123])\.conv([1-5])\.(weight|bias)$")}
_OUTER = {"esrgan": {"conv_first": "conv_first", "trunk_conv": "conv_body", "upconv1": "ups.0", "upconv2": "ups.1",
                     "HRconv": "conv_hr", "conv_last": "conv_last"},
          "basicsr": {"conv_first": "conv_first", "conv_body": "conv_body", "conv_up1": "ups.0", "conv_up2": "ups.1",
                      "conv_hr": "conv_hr", "conv_last": "conv_last"}}
_ABOUT = {"esrgan": "official ESRGAN layout (RRDB_ESRGAN_x4.pth)",
          "basicsr": "BasicSR / Real-ESRGAN layout (RealESRGAN_x4plus.pth)"}


class UnshuffleRRDBNet(RRDBNet):
    """BasicSR's RRDBNet for x2: pixel-unshuffle the input by 2 (4x the channels), then the x4 network.

    Odd sizes are reflect-padded to even and the output cropped, as Real-ESRGAN does. The
    network sees 2x2 pixel groups, so it is shift-equivariant by 2 pixels only: tiles must start
    at multiples of `tile_multiple` to give the whole-image output.
    """

    tile_multiple = 2

    def __init__(self, unshuffle: int = 2, channels: int = 64, blocks: int = 23, growth: int = 32):
        super().__init__(4, channels, blocks, growth)
        self.unshuffle, self.scale = unshuffle, 4 // unshuffle
        self.conv_first = nn.Conv2d(3 * unshuffle**2, channels, 3, padding=1)

    def forward(self, x):
        h, w, r = x.shape[-2], x.shape[-1], self.unshuffle
        x = F.pad(x, (0, -w % r, 0, -h % r), mode="reflect") if (h % r or w % r) else x
        return super().forward(F.pixel_unshuffle(x, r))[..., : h * self.scale, : w * self.scale]


def read_state_file(path: str | Path):
    """`load_weights_file`, which also reads the pre-zip torch.save files of the 2018 ESRGAN release."""
    path = Path(path)
    if not path.is_file() or zipfile.is_zipfile(path):
        return load_weights_file(path)
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # pickle errors come in many types
        found = re.search(r"GLOBAL (\S+)", str(e))
        if found:
            raise SrlibError(f"refusing to load {path}: it holds more than tensors (it names {found.group(1)}, code "
                             "that would run when it is opened); only plain weights files are read.") from None
        raise _damaged(path, "neither a zip archive, which every torch.save file since PyTorch 1.6 is, "
                             f"nor an older torch.save file ({type(e).__name__})") from None


def official_layout(obj) -> tuple[str, dict, str] | None:
    """(layout, state dict, which weights) if `obj` looks like an official ESRGAN / BasicSR file; else None."""
    if not isinstance(obj, dict):
        return None
    which = ""
    if "params_ema" in obj or "params" in obj:
        which = "params_ema" if isinstance(obj.get("params_ema"), dict) else "params"
        obj = obj.get(which)
        if not isinstance(obj, dict):
            return None
    if not obj or not all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in obj.items()):
        return None
    state = {k.removeprefix("module."): v for k, v in obj.items()}  # DataParallel saves
    if any(k.startswith("RRDB_trunk.") or k.startswith("trunk_conv.") for k in state):
        return "esrgan", state, which
    if which or any(k.startswith("body.") and ".rdb" in k for k in state):
        return "basicsr", state, which
    return None


def _guess(state: dict) -> str:
    """What a file that fits neither layout probably is, in words."""
    keys = list(state)
    if any(k.startswith("model.1.sub.") for k in keys):
        return ("the 2018 ESRGAN key names (model.0, model.1.sub...): convert it with transer_RRDB_models.py of "
                "github.com/xinntao/ESRGAN, or download the renamed RRDB_ESRGAN_x4.pth")
    if any(k.startswith("body.") and not k.startswith("body.0.rdb") for k in keys) and "conv_first.weight" not in state:
        return "a different network (e.g. Real-ESRGAN's SRVGGNetCompact, realesr-general-x4v3), not an RRDBNet"
    return "a network other than ESRGAN's RRDBNet, or a file cut off while downloading"


def convert_official_state(layout: str, state: dict, name: str = "the file") -> tuple[dict, dict]:
    """(srlib RRDBNet state dict, {channels, blocks, growth, unshuffle}) from an official state dict."""
    pattern, outer = _BLOCK[layout], _OUTER[layout]
    out, unexpected, blocks = {}, [], set()
    for key, value in state.items():
        m = pattern.match(key)
        head, _, leaf = key.rpartition(".")
        if m:
            n, k, j, leaf = int(m[1]), int(m[2]) - 1, int(m[3]) - 1, m[4]
            blocks.add(n)
            out[f"body.{n}.blocks.{k}.convs.{j}.{leaf}"] = value
        elif head in outer and leaf in ("weight", "bias"):
            out[f"{outer[head]}.{leaf}"] = value
        else:
            unexpected.append(key)
    expected = [f"{h}.{leaf}" for h in outer for leaf in ("weight", "bias")]
    if not blocks:
        missing_blocks = [_block_keys(layout)[0].replace("N", "0")]
    else:
        missing_blocks = []
        expected += [m.replace("N", str(n)) for n in range(max(blocks) + 1) for m in _block_keys(layout)]
    missing = missing_blocks + [k for k in expected if k not in state]
    if missing or unexpected or "conv_first.weight" not in state:
        parts = [f"missing {_few(missing)}" if missing else "", f"unexpected {_few(unexpected)}" if unexpected else ""]
        raise SrlibError(f"{name} does not fit the {_ABOUT[layout]}: {'; '.join(p for p in parts if p)}. "
                         f"It is probably {_guess(state)}.")
    first = state["conv_first.weight"]
    in_ch, channels = first.shape[1], first.shape[0]
    growth = out["body.0.blocks.0.convs.0.weight"].shape[0]
    unshuffle = {3: 1, 12: 2}.get(in_ch)
    if unshuffle is None:
        what = "a x1 model (pixel-unshuffle by 4)" if in_ch == 48 else f"a {in_ch}-channel input"
        raise SrlibError(f"{name} is {what}; srlib loads the official x4 and x2 RRDBNet models (3 or 12 input "
                         "channels), which upscale RGB images.")
    return out, {"channels": channels, "blocks": max(blocks) + 1, "growth": growth, "unshuffle": unshuffle}


def _block_keys(layout: str) -> list[str]:
    rdb, trunk = ("RDB", "RRDB_trunk") if layout == "esrgan" else ("rdb", "body")
    return [f"{trunk}.N.{rdb}{k}.conv{j}.{leaf}" for k in (1, 2, 3) for j in range(1, 6) for leaf in ("weight", "bias")]


def _few(keys: list[str]) -> str:
    return ", ".join(keys[:4]) + (f" and {len(keys) - 4} more" if len(keys) > 4 else "")


def build_official_model(config: dict) -> RRDBNet:
    """The RRDBNet (or, for x2, UnshuffleRRDBNet) of a `convert_official_state` config; no image skip."""
    if config["unshuffle"] == 1:
        return RRDBNet(4, config["channels"], config["blocks"], config["growth"])
    return UnshuffleRRDBNet(config["unshuffle"], config["channels"], config["blocks"], config["growth"])


def load_official(source, name: str | None = None) -> tuple[RRDBNet, str]:
    """An official ESRGAN / Real-ESRGAN weights file (path, or what `read_state_file` returned) as an RRDBNet in eval mode.

    Returns the model and a line saying what was loaded. A file of neither layout, or one whose
    keys or shapes do not fit, is an SrlibError naming the keys and what the file probably is.
    """
    if isinstance(source, (str, Path)):
        name = name or str(source)
        source = read_state_file(source)
    name = name or "the weights"
    found = official_layout(source)
    if found is None:
        raise SrlibError(f"{name} is not an official ESRGAN (RRDB_trunk..., trunk_conv) or BasicSR / Real-ESRGAN "
                         "(params_ema / params, body.N.rdbK...) weights file.")
    layout, state, which = found
    converted, config = convert_official_state(layout, state, name)
    model = build_official_model(config)
    problem = describe_mismatch(model, converted)
    if problem:
        raise SrlibError(f"{name} does not fit an RRDBNet of {config['blocks']} blocks x {config['channels']} ch, "
                         f"growth {config['growth']}: {problem}. It is probably {_guess(state)}.")
    model.load_state_dict(converted)
    weights = f", {which} weights" if which else ""
    about = (f"{name} ({_ABOUT[layout].split(' (')[0]}{weights}: RRDBNet x{model.scale}, {config['blocks']} blocks x "
             f"{config['channels']} ch, growth {config['growth']})")
    return model.eval(), about


def missing_official_file(spec: str) -> str | None:
    """If `spec` names an official file that is not here, a sentence saying where to download it; else None."""
    base = Path(spec).name
    name = base if base.endswith(".pth") else f"{base}.pth"
    if name not in OFFICIAL_WEIGHTS or Path(spec).is_file():
        return None
    return (f"there is no {spec}: the official weights are not shipped with srlib and are not downloaded by it. "
            f"Get {name} yourself ({OFFICIAL_WEIGHTS[name]}), then pass its path, e.g. --model weights/{name}.")

"""A Demucs checkpoint as the separator (DAM_SEPARATION_MODEL=path), for users who have one.

The formats Demucs itself saves and loads (demucs 4.x, which installs beside torch 2.14):
- `.th`: a pickled package {klass, args, kwargs, state} (`demucs.states.load_model`), what
  `demucs` training and the legacy model repository write;
- `.safetensors`: weights with the class and its arguments in the metadata
  (`demucs.hf.load_safetensors_model`), what the current model repository serves;
- `.yaml`: a bag of models naming signatures whose `.th` files sit beside it
  (`demucs.pretrained.get_model(name, repo=folder)`), as in a local `--repo` folder.
Nothing is downloaded: the path must exist. The dialogue is the source named dialogue, speech
or vocals; music and effects are the rest of the mix (dam.audio.separate)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from dam.audio.separate import RepetSim, SeparationConfigError, SeparationError, Separator

DIALOGUE_SOURCES = ("dialogue", "dialog", "speech", "voice", "vocals")


def _load(path: Path):
    from demucs.states import load_model as load_th

    if path.suffix == ".th":
        return load_th(path)
    if path.suffix == ".safetensors":
        from demucs.hf import load_safetensors_model

        return load_safetensors_model(path)
    if path.suffix in (".yaml", ".yml"):
        from demucs.pretrained import get_model

        return get_model(path.stem, repo=path.parent)
    raise SeparationConfigError(f"{path.name}: not a Demucs checkpoint (.th, .safetensors, or a .yaml bag)")


class Demucs(Separator):
    name = "demucs"

    def __init__(self, path: str, device: str = "auto"):
        try:
            import torch
            from demucs.apply import apply_model  # noqa: F401  (checked here, used in dialogue)
        except ImportError:
            raise SeparationConfigError("pip install demucs to use a Demucs checkpoint") from None
        p = Path(path).expanduser()
        if not p.is_file():
            raise SeparationConfigError(f"DAM_SEPARATION_MODEL={path}: no such file")
        try:
            model = _load(p)
        except SeparationConfigError:
            raise
        except SystemExit as e:  # demucs.utils.fatal exits on a bad --repo
            raise SeparationConfigError(f"{p.name}: {e}") from None
        except Exception as e:  # truncated, foreign or mismatched files raise anything
            raise SeparationConfigError(f"{p.name} is not a usable Demucs checkpoint: {type(e).__name__}: "
                                        f"{str(e)[:200]}") from None
        sources = [str(s).lower() for s in getattr(model, "sources", [])]
        found = [s for s in DIALOGUE_SOURCES if s in sources]
        if not found:
            raise SeparationConfigError(f"{p.name} separates {', '.join(sources) or 'nothing'}: none of them is "
                                        f"dialogue ({', '.join(DIALOGUE_SOURCES)})")
        self._index = sources.index(found[0])
        self._device = "cuda" if device in ("auto", "cuda") and torch.cuda.is_available() else "cpu"
        self._model = model.to(self._device).eval()
        self.model, self.rate = str(p), int(model.samplerate)
        self.source = found[0]

    def dialogue(self, x: np.ndarray, rate: int) -> np.ndarray:
        """The model's dialogue source, at the model's channel count in and the file's out. The
        input is normalised as `demucs.separate` does (zero mean, unit deviation of the mono mix)."""
        import torch
        from demucs.apply import apply_model

        want = self._model.audio_channels
        mix = np.repeat(x, want, axis=0) if x.shape[0] == 1 else x[:want]
        ref = mix.mean(axis=0)
        mean, std = float(ref.mean()), float(ref.std())
        if std < 1e-8:  # silence: nothing to separate (and nothing to divide by)
            return np.zeros_like(x)
        wav = torch.from_numpy(((mix - mean) / std).astype(np.float32))[None]
        try:
            with torch.no_grad():
                out = apply_model(self._model, wav, shifts=0, split=True, overlap=0.25, device=self._device)
        except (RuntimeError, ValueError) as e:  # a checkpoint whose layers do not fit together
            raise SeparationError(f"the Demucs model {Path(self.model).name} failed: {str(e)[:200]}") from None
        voice = out[0, self._index].cpu().numpy() * std + mean
        return (voice.mean(axis=0, keepdims=True) if x.shape[0] == 1 else voice).astype(np.float32)


def load_model(path: str, device: str = "auto") -> Demucs:
    return Demucs(path, device)


def load_separator(model: str | None = None, device: str = "auto") -> Separator:
    """The built-in method, or the configured checkpoint (raises SeparationConfigError)."""
    return load_model(model, device) if model else RepetSim()

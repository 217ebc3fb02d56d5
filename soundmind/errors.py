"""Errors that carry one clear, user-facing sentence."""


class SoundmindError(Exception):
    """A problem with the user's input that a stage reports as one sentence and a non-zero exit."""


class DownloadError(SoundmindError):
    """The corpus could not be fetched or failed verification."""


class CorpusError(SoundmindError):
    """The corpus is missing, incomplete or holds files that cannot be used."""


class ParamsError(SoundmindError):
    """A value in params.yaml is missing or not allowed."""


class StaleFeaturesError(SoundmindError):
    """A feature table was extracted with other settings than the ones a stage is asked to use."""


class SpeakerProfileError(SoundmindError, ValueError):
    """A speaker profile file cannot be read, or was made for other features than the model it is used with."""


class PredictionError(SoundmindError):
    """The audio or the model cannot be used for a prediction; the message says why in one sentence."""


class SoundmindWarning(UserWarning):
    """Something the user should know that does not stop the work (the CLI prints it as one line)."""

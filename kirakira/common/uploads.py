"""Uploads are capped while they arrive, not only after.

Django streams an uploaded file to a temporary file whatever its size, and the form's checks
run only once the whole request is in; a client could fill the disk with one request. This
handler keeps at most ``UPLOAD_FILE_MAX_BYTES`` + 1 bytes of each file (the extra byte is how the
checks see "too large") while counting its real size, which the checks then report. A limit on
the whole request body belongs to the web server in front (see the README).
"""

from django.conf import settings
from django.core.files.uploadhandler import TemporaryFileUploadHandler


class CappedTemporaryFileUploadHandler(TemporaryFileUploadHandler):
    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data, start):
        room = settings.UPLOAD_FILE_MAX_BYTES + 1 - self.received
        if room > 0:
            self.file.write(raw_data[:room])
        self.received += len(raw_data)

    def file_complete(self, file_size):
        self.file.seek(0)
        self.file.size = file_size  # the real size, so the checks can say how large it was
        return self.file

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    """Error reports (the DEBUG page, admin e-mails, error trackers reading them) show each frame's
    variable names but never their values: frames of the services and the connection test hold
    decrypted credentials, and no list of sensitive variable names can be trusted to stay complete.
    Applies whatever DEBUG says."""

    def get_traceback_frame_variables(self, request, tb_frame):
        return [(name, self.cleansed_substitute) for name in tb_frame.f_locals]

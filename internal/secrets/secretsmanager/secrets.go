// Package secretsmanager keeps connection credentials in AWS Secrets Manager: one secret
// per connection holding a JSON object, so refreshed tokens are written back in place.
package secretsmanager

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	sm "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"

	"github.com/ponte-hub/ponte/internal/store"
)

// Secrets implements platform.Secrets.
type Secrets struct {
	client *sm.Client
	prefix string
}

// New names secrets prefix+ref (e.g. "ponte/prod/" + "demo-tray-1").
func New(client *sm.Client, prefix string) *Secrets { return &Secrets{client: client, prefix: prefix} }

// GetSecret returns the secret's values; store.ErrNotFound when it does not exist.
func (s *Secrets) GetSecret(ctx context.Context, ref string) (map[string]string, error) {
	out, err := s.client.GetSecretValue(ctx, &sm.GetSecretValueInput{SecretId: aws.String(s.prefix + ref)})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		return nil, fmt.Errorf("secret %s: %w", ref, store.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read secret %s: %w", ref, err)
	}
	values := map[string]string{}
	if err := json.Unmarshal([]byte(aws.ToString(out.SecretString)), &values); err != nil {
		return nil, fmt.Errorf("secret %s is not a JSON object of strings", ref)
	}
	return values, nil
}

// PutSecret writes the values, creating the secret the first time.
func (s *Secrets) PutSecret(ctx context.Context, ref string, values map[string]string) error {
	b, err := json.Marshal(values)
	if err != nil {
		return fmt.Errorf("encode secret %s: %w", ref, err)
	}
	_, err = s.client.PutSecretValue(ctx, &sm.PutSecretValueInput{SecretId: aws.String(s.prefix + ref), SecretString: aws.String(string(b))})
	var nf *types.ResourceNotFoundException
	if errors.As(err, &nf) {
		_, err = s.client.CreateSecret(ctx, &sm.CreateSecretInput{Name: aws.String(s.prefix + ref), SecretString: aws.String(string(b))})
	}
	if err != nil {
		return fmt.Errorf("write secret %s: %w", ref, err)
	}
	return nil
}
